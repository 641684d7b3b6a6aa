"""Language as people read it (issue 12, point 9): a Dawukou village's catalog (traditional characters in
the seed) reads in simplified characters in every zh view; the English reader sees no Chinese in the
catalog's words; the text calendar and the CSV exports speak the deployment's language."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot.ui.texts import Texts
from models import Notice, Person, Village
from tests.harness import Harness
from tests.notice_fixtures import seed_village

TRADITIONAL = re.compile("[黨務區開組織機構財資産產債權審計項]")  # characters of the Dawukou seed that differ
CJK = re.compile(r"[\u3400-\u9fff]")


async def _dawukou(h: Harness) -> None:
    async with h.runtime.sessions() as session:
        village = (await session.exec(select(Village).where(Village.code == "xinglong"))).one()
        village.catalog, village.profile = "dwk", "dawukou"
        session.add(village)
        await session.commit()


async def test_a_dawukou_village_reads_in_simplified_characters(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await _dawukou(h)
    await h.flush()
    staff = cast.staff
    await h.say(staff, "/draft")
    classes = h.world.bot_messages(h.world.private_chat(staff))[-1].buttons
    assert "党务公开" in classes and not any(TRADITIONAL.search(b) for b in classes)
    await h.tap(staff, "党务公开")
    items = h.world.bot_messages(h.world.private_chat(staff))[-1].buttons
    assert items == ["1. 党务公开"]
    await h.tap(staff, "1. 党务公开")
    await h.tap(staff, "2026年3月")  # a monthly item: the month that has ended, in words
    await h.say(staff, "2026年3月党务公开")
    await h.say(staff, "本月召开党员大会一次，发展预备党员一名。")
    await h.tap(staff, "完成")
    preview = "\n".join(h.texts(staff)[-2:])
    assert "类别：党务公开 · 党务公开 · 2026年3月" in preview and not TRADITIONAL.search(preview)
    await h.tap(staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    posted = h.world.bot_messages(cast.groups[0])[-1].text
    assert "2026年3月党务公开" in posted and not TRADITIONAL.search(posted)
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert (notice.state, notice.period, notice.item_id) == ("published", "2026-03", "dwk:dw.1")


async def test_the_english_reader_sees_the_catalog_in_english(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await _dawukou(h)
    async with h.runtime.sessions() as session:
        person = (await session.exec(select(Person).where(Person.tg_user_id == cast.staff.id))).one()
        person.language = "en"
        session.add(person)
        await session.commit()
    await h.flush()
    await h.say(cast.staff, "/draft")
    classes = h.world.bot_messages(h.world.private_chat(cast.staff))[-1].buttons
    assert "Party affairs disclosure" in " ".join(classes) and not any(CJK.search(b) for b in classes)
    await h.tap(cast.staff, "Party affairs disclosure")
    await h.tap(cast.staff, "1. Party affairs")
    picker = h.world.bot_messages(h.world.private_chat(cast.staff))[-1]
    assert picker.buttons[0] == "March 2026" and picker.buttons[-1] == "April 2026 (not yet ended)"
    assert not CJK.search(picker.text + " ".join(picker.buttons))


def test_the_zh_calendar_has_no_english_and_the_en_calendar_no_chinese(capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli.main import main

    for lang in ("zh", "en"):
        monkeypatch.setenv("DEFAULT_LANGUAGE", lang)
        assert main(["calendar", "--profile", "dawukou", "--year", "2026"]) == 0
        text = capsys.readouterr().out
        assert not re.search(r"\d{4}Q\d|\d{4}-\d{2}\s", text)  # periods in words, not codes
        if lang == "zh":
            assert "2026年第一季度" in text and "2026年3月" in text
            # rule ids (T-YEAR) and seed numbers are codes; no English words
            assert not [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in {"T", "YEAR", "DAY", "FIN", "KEEP"}]
        else:
            assert "Q1 2026" in text and "March 2026" in text and not CJK.search(text)


def test_csv_headings_are_in_the_deployments_language() -> None:
    from services.deadlines import compliance
    from services.notices.archive import CSV_FIELDS

    texts = Texts()
    for fields, kind in ((CSV_FIELDS, "archive"), (compliance.CSV_FIELDS, "report")):
        zh = [texts.plain("zh", f"csv.{kind}.{f}") for f in fields]
        en = [texts.plain("en", f"csv.{kind}.{f}") for f in fields]
        assert all(CJK.search(h) for h in zh) and not any(CJK.search(h) for h in en)
        assert len(set(zh)) == len(fields) and len(set(en)) == len(fields)


# --- what every message and button is made of (the demo's transcripts are made of these) ---------------

LATIN_ALLOWED = {"Telegram", "PDF", "Excel", "CSV", "xlsx", "English", "PUBLIC", "BASE", "URL", "filing",
                 "xinglong", "hongqi", "Choose", "language", "Language", "Mini", "App", "QR", "Bot", "API"}
BILINGUAL_ON_PURPOSE = {"lang.zh", "lang.en", "lang.pick", "cmd.lang", "help.lang", "admin.newvillage_usage",
                        # /officialphone's argument is typed as is (supervision|office)
                        "help.officialphone", "official.usage", "official.which_village"}
UNFILTERED_PERIOD = re.compile(r"\{\{\s*(?!v\.quarter\b)[\w.]*\b(period|quarter)\s*\}\}")  # v.quarter: a rate


def _latin_words(text: str) -> list[str]:
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)  # CSS is not read by people
    text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{[^}]*\}|<[^>]+>|https?://\S+|/[a-z_]+", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in LATIN_ALLOWED]


def test_strings_and_templates_hold_no_words_of_the_other_language() -> None:
    """A static check standing in for reading both demos' transcripts: every message and button is a locale
    string or a template of its language (tests/e2e/test_commands.py also runs `cunwu demo --lang en`)."""
    from bot.ui.texts import HERE

    texts = Texts()
    assert {k: _latin_words(v) for k, v in texts.strings["zh"].items()
            if k not in BILINGUAL_ON_PURPOSE and _latin_words(v)} == {}
    assert [k for k, v in texts.strings["en"].items() if k not in BILINGUAL_ON_PURPOSE and CJK.search(v)] == []
    for path in sorted((HERE / "templates" / "en").glob("*.j2")):
        assert not CJK.search(path.read_text(encoding="utf-8")), path.name
    for path in sorted((HERE / "templates" / "zh").glob("*.j2")):
        assert _latin_words(path.read_text(encoding="utf-8")) == [], path.name


def test_templates_word_every_period() -> None:
    """No template prints a period code: each goes through the |period filter (catalogs.periods)."""
    from bot.ui.texts import HERE

    for lang in ("zh", "en"):
        for path in sorted((HERE / "templates" / lang).glob("*.j2")):
            assert not UNFILTERED_PERIOD.search(path.read_text(encoding="utf-8")), f"{lang}/{path.name}"


def test_every_keyboard_shortens_labels_through_the_one_helper() -> None:
    """No keyboard cuts a label by slicing (which cuts mid-word); they call keyboards.common.shorten."""
    from pathlib import Path

    import bot.ui.keyboards as keyboards

    folder = Path(keyboards.__file__).parent
    sliced = {p.name: re.findall(r"\w+\)?\[:\d+\]", p.read_text(encoding="utf-8")) for p in folder.glob("*.py")}
    assert {name: found for name, found in sliced.items() if found} == {}


def test_every_callback_prefix_is_used_once() -> None:
    """Two kinds of callback data with one prefix send a tap to the wrong handler (a /due page tap once
    reached the township desk's urge handler after a merge)."""
    import importlib
    import pkgutil

    from aiogram.filters.callback_data import CallbackData

    import bot.ui.keyboards as keyboards

    seen: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(keyboards.__path__):
        module = importlib.import_module(f"{keyboards.__name__}.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, CallbackData) and value is not CallbackData \
                    and value.__module__ == module.__name__:
                seen.setdefault(value.__prefix__, []).append(f"{info.name}.{name}")
    assert {prefix: kinds for prefix, kinds in seen.items() if len(kinds) > 1} == {}


async def test_typing_at_a_picker_and_an_emoji_or_blank_title_get_a_reason(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.say(staff, "财务")  # typing while the class picker is shown
    assert h.last(staff) == "请点击上面的按钮进行选择，或发送 /cancel 退出。"
    await h.tap(staff, "财务类")
    await h.tap(staff, "1. 村级财务收支情况")
    await h.say(staff, "2026年第一季度")  # typing while the period picker is shown
    assert h.last(staff) == "请点击上面的按钮进行选择，或发送 /cancel 退出。"
    await h.tap(staff, "2026年第一季度")
    await h.say(staff, "🎉🎉👍")
    assert h.last(staff).startswith("标题里要有文字（不能只有表情或符号）")
    await h.say(staff, "\u3000\u200b")  # an ideographic space and a zero-width space
    refused = h.last(staff)
    await h.say(staff, "2026年第一季度财务公开")
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert refused == "内容不能为空。" and notice.title == "2026年第一季度财务公开"
