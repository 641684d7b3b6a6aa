"""The clerk's reminder as a person uses it (issue 12, point 1): it names every item it is about, one row of
buttons per item (draft it now, remind me tomorrow, nothing this period), labels that are whole words or
end in "…", a page of rows at a time; and the one label shortener every keyboard uses."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.ui.keyboards.common import shorten
from bot.ui.keyboards.deadlines import NAG_ROWS
from fake_telegram import FakeMessage
from models import Notice
from tests.deadlines.test_deadlines import _run_hourly, _village
from tests.harness import Harness


def _rows(message: FakeMessage) -> list[list[str]]:
    markup: dict[str, Any] = message.data.get("reply_markup") or {}
    return [[button["text"] for button in row] for row in markup.get("inline_keyboard", [])]


def _reminder(h: Harness, user: Any) -> FakeMessage:
    return [m for m in h.world.bot_messages(h.world.private_chat(user)) if "公开提醒" in m.text][-1]


async def test_the_reminder_names_every_item_with_a_row_of_buttons_each_paged(harness: Harness) -> None:
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await _run_hourly(h)  # 2026-04-03 10:00 local: T-7 for every quarterly item of 2026Q1
    reminder = _reminder(h, staff)
    lines = reminder.text.splitlines()[1:]
    assert len(lines) == 13 and [line.split(".")[0] for line in lines] == [str(n) for n in range(1, 14)]
    assert "其他需要公开的事项" not in reminder.text and "2026Q1" not in reminder.text
    rows = _rows(reminder)
    assert len(rows) == NAG_ROWS + 1 and rows[-1] == ["下一页 ▶"]  # five items, then the pages
    names = [line.split(". ", 1)[1].split(" · ")[0] for line in lines]
    for number, row in enumerate(rows[:-1], start=1):
        assert row[1:] == ["⏰ 明天再提醒", "🈳 本期无事项"]
        label = row[0].removeprefix(f"✏️ 起草 {number}：")
        assert label == names[number - 1] or (label.endswith("…") and names[number - 1].startswith(label[:-1]))
    assert any(row[0].endswith("…") for row in rows[:-1])  # the long names are shortened, not cut mid-phrase
    await h.tap(staff, "下一页")
    rows = _rows(_reminder(h, staff))  # the same message, its buttons edited in place
    assert rows[0][0].startswith("✏️ 起草 6：") and rows[-1] == ["◀ 上一页", "下一页 ▶"]
    await h.tap(staff, "下一页")
    rows = _rows(_reminder(h, staff))
    assert [row[0].split("：")[0] for row in rows[:-1]] == ["✏️ 起草 11", "✏️ 起草 12", "✏️ 起草 13"]
    await h.tap(staff, "起草 12")  # the button drafts the item its row names
    async with h.runtime.sessions() as session:
        draft = (await session.exec(select(Notice))).one()
    assert draft.item_id and h.runtime.policy.item(draft.item_id).zh.startswith(names[11][:6])  # type: ignore[union-attr]
    assert draft.period == "2026Q1"
    # the committee member hears what the committee owes, without the clerk's buttons
    committee = _reminder(h, users["supervisor"])
    assert "村务监督委员会开展村级财务监督情况 · 2026年第一季度" in committee.text and not _rows(committee)


async def test_another_persons_reminder_pages_are_refused(harness: Harness) -> None:
    h = harness
    village, _ = await _village(h)
    await _run_hourly(h)
    stranger = h.world.new_user("外人")
    from bot.ui.keyboards.deadlines import NagPage

    data = NagPage(village_id=village.id or 0, day="2026-04-03", page=1).pack()
    await h.forge_tap(stranger, h.world.private_chat(stranger), 1, data)
    assert "没有" in h.last_alert()


def test_labels_are_cut_at_word_boundaries_and_end_in_an_ellipsis() -> None:
    assert shorten("Short label", 20) == "Short label"
    cut = shorten("Management and use of funds of public-welfare venture projects", 24)
    assert cut == "Management and use of…" and len(cut) <= 24
    assert shorten("村集体资产运营、处置及收益情况", 18) == "村集体资产运营…"  # at the pause, not mid-phrase
    assert shorten("农村最低生活保障特困人员供养残疾人保障", 12) == "农村最低生…"
    assert shorten("Supercalifragilisticexpialidocious", 10) == "Supercali…"  # one word longer than the button


def test_the_report_chart_draws_a_chinese_village_name_with_the_cjk_font(runtime: Any) -> None:
    """fonts-noto-cjk (README, `make system-packages`) is installed: the chart names villages in Chinese,
    with its quarters and legend in words, and no glyph is missing (matplotlib warns for each one)."""
    import warnings

    from services.deadlines import compliance

    assert compliance._cjk_font() is not None, "install fonts-noto-cjk (make system-packages)"
    quarters = ["2025Q2", "2025Q3", "2025Q4", "2026Q1"]

    def chart(name: str) -> bytes:
        report = compliance.TownshipReport("hongqi", "红旗镇", "2026Q1", quarters)
        report.villages.append(compliance.VillageReport("xinglong", name, {q: compliance.Tally(on_time=1)
                                                                          for q in quarters}, [], 0))
        return compliance.chart_png(report, compliance.legend(runtime.texts.plain, "zh"), lang="zh")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = chart("兴隆村"), chart("东风村")
    assert not [w for w in caught if "missing from" in str(w.message)]  # every glyph found in the font
    assert first != second  # the village's name is drawn, not its code (the same code in both charts)
