"""Every user-facing text: Jinja2 templates (autoescaped, HTML parse mode) and YAML locale strings.

Short UI strings (buttons, one-line answers, errors) live in `locales/<lang>.yaml` under dotted keys;
messages with structure live in `templates/<lang>/<name>.j2`. Key-based YAML rather than gettext so a
test can prove both languages define the same keys, with no compile step.
"""

from __future__ import annotations

from functools import cached_property
from html import escape
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

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
            strings = _flatten(yaml.safe_load(handle) or {})
        clash = merged.keys() & strings.keys()
        if clash:
            raise ValueError(f"{path}: keys already defined in another file: {sorted(clash)}")
        merged.update(strings)
    return merged


class Texts:
    """All languages' strings and templates, loaded once at start-up."""

    def __init__(self, default_lang: str = "zh", folder: Path = HERE) -> None:
        self.default_lang = default_lang
        self.strings = {lang: load_locale(lang, folder / "locales") for lang in LANGUAGES}
        self.env = Environment(
            loader=FileSystemLoader(str(folder / "templates")), autoescape=True, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        )

    def lang(self, lang: str | None) -> str:
        return lang if lang in LANGUAGES else self.default_lang

    def t(self, lang: str | None, key: str, **params: Any) -> str:
        """A plain-text string (for buttons and alerts); unknown keys fall back to the default language."""
        lang = self.lang(lang)
        raw = self.strings[lang].get(key) or self.strings[self.default_lang].get(key) or key
        return raw.format(**params) if params else raw

    def html(self, lang: str | None, key: str, **params: Any) -> str:
        """The same string, escaped for HTML parse mode."""
        return escape(self.t(lang, key, **params), quote=False)

    def render(self, lang: str | None, template: str, **context: Any) -> str:
        lang = self.lang(lang)
        tpl = self.env.get_template(f"{lang}/{template}.j2")
        return tpl.render(t=lambda key, **p: self.t(lang, key, **p), lang=lang, **context).strip()

    def for_lang(self, lang: str | None) -> UI:
        return UI(self, self.lang(lang))


class UI:
    """Texts bound to one person's language; handlers receive it as `ui`."""

    def __init__(self, texts: Texts, lang: str) -> None:
        self.texts, self.lang = texts, lang

    def t(self, key: str, **params: Any) -> str:
        return self.texts.t(self.lang, key, **params)

    def html(self, key: str, **params: Any) -> str:
        return self.texts.html(self.lang, key, **params)

    def render(self, template: str, **context: Any) -> str:
        return self.texts.render(self.lang, template, **context)

    @cached_property
    def other_lang(self) -> str:
        return "en" if self.lang == "zh" else "zh"
