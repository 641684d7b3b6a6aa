"""Both languages say everything: same locale keys, a template in each language for every message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.ui.texts import HERE, LANGUAGES, Texts, load_locale, normalise_language
from services.people.directory import Membership
from services.people.roles import Role

ROOT = Path(__file__).resolve().parents[2]


def test_locales_define_the_same_keys() -> None:
    keys = {lang: set(load_locale(lang)) for lang in LANGUAGES}
    assert keys["zh"] == keys["en"], keys["zh"] ^ keys["en"]


def test_every_template_exists_in_both_languages() -> None:
    names = {lang: {p.name for p in (HERE / "templates" / lang).glob("*.j2")} for lang in LANGUAGES}
    assert names["zh"] == names["en"], names["zh"] ^ names["en"]


def test_every_key_used_in_code_is_defined() -> None:
    defined = set(load_locale("zh"))
    used: set[str] = set()
    pattern = re.compile(r"""(?:\.t|\.plain|DomainError|NotAllowed)\(\s*["']([a-z_]+\.[a-z_.]+)["']""")
    for folder in ("bot", "handlers", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "the scan found no keys: the pattern is broken"
    assert used <= defined, used - defined


def test_templates_escape_what_people_type() -> None:
    texts = Texts("zh")
    out = texts.render("zh", "join_request", name="<b>&amp;</b>", village="兴隆村")
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in out


def test_language_codes_from_telegram() -> None:
    assert normalise_language("zh-hans", "en") == "zh"
    assert normalise_language("en-US", "zh") == "en"
    assert normalise_language("fr", "zh") == "zh"
    assert normalise_language(None, "zh") == "zh"


def test_locale_strings_hold_no_markup() -> None:
    """t() treats a locale string as HTML and plain() as typed text; without markup they say the same."""
    for lang in LANGUAGES:
        marked = {key: text for key, text in load_locale(lang).items() if re.search(r"[<>&]", text)}
        assert not marked, marked


def test_parameters_are_escaped_for_messages_and_not_for_buttons() -> None:
    texts = Texts("zh")
    assert texts.t("en", "admin.invite_role", village="A<B&C") == "Which role should the invite for A&lt;B&amp;C grant?"
    assert texts.plain("en", "admin.invite_role", village="A<B&C") == "Which role should the invite for A<B&C grant?"


def test_no_rule_id_reaches_a_reader() -> None:
    """Issue 16: DOMAIN.md rule ids (T-Q10, T-ELECT...) stay in code and tests; what residents and staff read
    (locale strings, the words of every bot and page template) says what a rule means instead."""
    from typing import get_args

    from catalogs.vocabulary import RuleId

    ids = get_args(RuleId)
    assert "T-ELECT" in ids  # the pattern has something to find
    found: list[str] = []
    for lang in LANGUAGES:
        found += [f"{lang}:{key}" for key, text in load_locale(lang).items() if any(i in text for i in ids)]
    jinja = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.DOTALL)
    for path in [*(HERE / "templates").rglob("*.j2"), *(ROOT / "web" / "templates").rglob("*.j2")]:
        words = jinja.sub("", path.read_text(encoding="utf-8"))
        found += [f"{path.name}: {i}" for i in ids if i in words]
    assert not found, found


def test_a_remembered_screen_is_the_screen_its_context_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """render_same keys on language, template and every context value: a different name, role or language
    renders afresh, and only the least recently used screens are forgotten."""
    texts = Texts()
    staff = Membership(Role.STAFF, "active", 1, "兴隆村", None, None)
    pending = Membership(Role.RESIDENT, "pending", 2, "红星村", None, None)
    for lang, name, roles in [("zh", "张三", (staff,)), ("zh", "李四", (staff,)), ("zh", "张三", (staff, pending)),
                              ("en", "张三", (staff,)), ("zh", "张三", (staff,))]:
        context = {"name": name, "roles": roles, "days": 7, "is_admin": False}
        assert texts.render_same(lang, "start", **context) == texts.render(lang, "start", **context)
    assert len(texts._rendered) == 4
    monkeypatch.setattr("bot.ui.texts.RENDERED_KEPT", 2)
    texts.render_same("zh", "start", name="王五", roles=(), days=7, is_admin=True)
    assert len(texts._rendered) == 4  # one forgotten, one added
    assert ("zh", "start", (("days", 7), ("is_admin", True), ("name", "王五"), ("roles", ()))) in texts._rendered
