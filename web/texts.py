"""Words of the pages: Jinja2 templates per language (web/templates/{zh,en}; layout and macros shared in
web/templates/shared) and short strings in web/locales/{zh,en}.yaml, the same split as the bot's texts."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from catalogs.loader import parse_yaml
from catalogs.periods import EN_MONTHS, period_words
from web.qr import qr_svg

HERE = Path(__file__).parent
LANGUAGES = ("zh", "en")
def day_words(day: date | datetime | None, lang: str) -> str:
    if day is None:
        return ""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def time_words(when: datetime | None, lang: str) -> str:
    return f"{day_words(when, lang)} {when:%H:%M}" if when else ""


class WebTexts:
    """Loaded once at start-up; `render` picks the language's template, whose words are its own."""

    def __init__(self, default_lang: str = "zh", folder: Path = HERE) -> None:
        self.default_lang = default_lang
        self.strings = {lang: _locales(folder / "locales", lang) for lang in LANGUAGES}
        self.env = Environment(loader=FileSystemLoader(str(folder / "templates")), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.globals["qr"] = qr_svg
        self.fingerprint = _fingerprint(folder)  # in every ETag: a new release's pages are new pages

    def lang(self, lang: str | None) -> str:
        return lang if lang in LANGUAGES else self.default_lang

    def t(self, lang: str, key: str, **params: Any) -> Markup:
        raw = self.strings[lang].get(key) or self.strings[self.default_lang].get(key) or key
        return Markup(raw).format(**params)

    def render(self, lang: str | None, template: str, **context: Any) -> str:
        lang = self.lang(lang)
        return self.env.get_template(f"{lang}/{template}.j2").render(
            lang=lang, t=lambda key, **p: self.t(lang, key, **p),
            period=lambda code: period_words(code, lang), day=lambda d: day_words(d, lang),
            when=lambda w: time_words(w, lang), **context)


def _fingerprint(folder: Path) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted([*folder.glob("templates/**/*.j2"), *folder.glob("locales/*.yaml"), *folder.glob("static/*")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _locales(folder: Path, lang: str) -> dict[str, str]:
    """`zh.yaml`, then each feature's own `zh-<feature>.yaml` (the township console's, for one); a key
    defined twice is an error."""
    merged: dict[str, str] = {}
    for path in [folder / f"{lang}.yaml", *sorted(folder.glob(f"{lang}-*.yaml"))]:
        strings = _locale(path)
        twice = sorted(set(merged) & set(strings))
        if twice:
            raise ValueError(f"{path.name} defines again: {', '.join(twice)}")
        merged.update(strings)
    return merged


def _locale(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8") as handle:
        return _flatten(parse_yaml(handle) or {})


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat
