"""Every user-facing text: Jinja2 templates (autoescaped, HTML parse mode) and YAML locale strings.

Short UI strings (buttons, one-line answers, errors) live in `locales/<lang>/*.yaml` under dotted keys;
messages with structure live in `templates/<lang>/<name>.j2`. Key-based YAML rather than gettext so a
test can prove both languages define the same keys, with no compile step.

Every message goes out in HTML parse mode (bot.process.wiring), so what a handler answers must be HTML-safe
whatever a person typed (a village named `A<B&C村`, a question title). `t()` therefore returns markupsafe's
`Markup` with its parameters escaped, exactly as the autoescaped templates do: a handler cannot forget.
Telegram does not parse button labels, callback alerts or the command menu, and error answers go out
with parse_mode=None: those take `plain()`, the same string unescaped. Locale strings themselves hold no
markup (tests/runtime/test_texts.py checks), so the two differ only in how parameters are treated.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from catalogs.loader import parse_yaml
from catalogs.periods import period_words

HERE = Path(__file__).parent
LANGUAGES = ("zh", "en")


def normalise_language(code: str | None, default: str) -> str:
    """Telegram's language_code ('zh-hans', 'en-US') to one of ours."""
    if not code:
        return default
    base = code.split("-")[0].lower()
    return base if base in LANGUAGES else default


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = str(value)
    return flat


def load_locale(lang: str, folder: Path = HERE / "locales") -> dict[str, str]:
    """All of `locales/<lang>/*.yaml` (one file per feature); a key defined twice is an error."""
    merged: dict[str, str] = {}
    for path in sorted((folder / lang).glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            strings = _flatten(parse_yaml(handle) or {})
        clash = merged.keys() & strings.keys()
        if clash:
            raise ValueError(f"{path}: keys already defined in another file: {sorted(clash)}")
        merged.update(strings)
    return merged


@pass_context
def _period_filter(context: Context, code: Any) -> str:
    """`{{ o.period|period }}`: a period code in the words of the template's language."""
    return period_words(code, context.get("lang") or "zh")


RENDERED_KEPT = 512  # screens remembered by Texts.render_same (a few KB each)


class Texts:
    """All languages' strings and templates, loaded once at start-up."""

    def __init__(self, default_lang: str = "zh", folder: Path = HERE) -> None:
        self.default_lang = default_lang
        self.strings = {lang: load_locale(lang, folder / "locales") for lang in LANGUAGES}
        self._rendered: dict[tuple[Any, ...], str] = {}  # render_same: insertion order is recency
        self.env = Environment(
            loader=FileSystemLoader(str(folder / "templates")), autoescape=True, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        )
        self.env.filters["period"] = _period_filter

    def lang(self, lang: str | None) -> str:
        return lang if lang in LANGUAGES else self.default_lang

    def _raw(self, lang: str | None, key: str) -> str:
        """Unknown keys fall back to the default language, then to the key itself."""
        return self.strings[self.lang(lang)].get(key) or self.strings[self.default_lang].get(key) or key

    def t(self, lang: str | None, key: str, **params: Any) -> Markup:
        """The string for a message (HTML parse mode): parameters are escaped."""
        return Markup(self._raw(lang, key)).format(**params)

    def plain(self, lang: str | None, key: str, **params: Any) -> str:
        """The string for what Telegram shows as typed: buttons, callback alerts, the command menu."""
        return self._raw(lang, key).format(**params)

    def render(self, lang: str | None, template: str, **context: Any) -> str:
        lang = self.lang(lang)
        tpl = self.env.get_template(f"{lang}/{template}.j2")
        return tpl.render(t=lambda key, **p: self.t(lang, key, **p), lang=lang, **context).strip()

    def render_same(self, lang: str | None, template: str, **context: Any) -> str:
        """`render`, remembered for the same language, template and context (hashable values only: tuples,
        frozen dataclasses, strings), for the screens most updates show (/start, /help). Templates read
        nothing but their context and the strings, so the same context renders the same text; the most
        recently used RENDERED_KEPT are kept."""
        key = (self.lang(lang), template, tuple(sorted(context.items())))
        found = self._rendered.pop(key, None)
        if found is None:
            found = self.render(lang, template, **context)
            if len(self._rendered) >= RENDERED_KEPT:
                del self._rendered[next(iter(self._rendered))]  # the least recently used
        self._rendered[key] = found
        return found

    def for_lang(self, lang: str | None) -> UI:
        return UI(self, self.lang(lang))


class UI:
    """Texts bound to one person's language; handlers receive it as `ui`."""

    def __init__(self, texts: Texts, lang: str) -> None:
        self.texts, self.lang = texts, lang

    def t(self, key: str, **params: Any) -> Markup:
        return self.texts.t(self.lang, key, **params)

    def plain(self, key: str, **params: Any) -> str:
        return self.texts.plain(self.lang, key, **params)

    def render(self, template: str, **context: Any) -> str:
        return self.texts.render(self.lang, template, **context)

    def render_same(self, template: str, **context: Any) -> str:
        return self.texts.render_same(self.lang, template, **context)

    def period(self, code: Any) -> str:
        """A period code ('2026Q3') in this person's words ('2026年第三季度' / 'Q3 2026')."""
        return period_words(code, self.lang)

    @cached_property
    def other_lang(self) -> str:
        return "en" if self.lang == "zh" else "zh"
