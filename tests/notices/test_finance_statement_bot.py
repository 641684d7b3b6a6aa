"""A village finance statement as the clerk enters it (issue 12, point 5): five columns (item, opening
balance, income, spending, closing balance), the arithmetic checked row by row and in the total, typed as
lines or uploaded as the CSV or Excel template the bot sends; an aligned table in the notice, a real table
on the board; every bad sheet named by its row."""

from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook
from sqlmodel import select

from models import Notice
from services.notices import finance_sheet
from services.notices.finance_table import TableError, parse_table
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village

GOOD = "集体经营收入 120000 45000 30000 135000\n上级补助资金 8000 80000 82000 6000\n合计 128000 125000 112000 141000"


async def _to_the_table(h: Harness, cast: Cast) -> None:
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.tap(staff, "财务类")
    await h.tap(staff, "1. 村级财务收支情况")
    await h.tap(staff, "2026年第一季度")
    await h.say(staff, "2026年第一季度财务公开")
    await h.say(staff, "本季度收支情况见下表。")
    await h.tap(staff, "完成")
    await h.tap(staff, "财务明细")


def _sent_files(h: Harness, cast: Cast) -> dict[str, bytes]:
    names = [m.data["document"]["file_name"] for m in h.world.bot_messages(h.world.private_chat(cast.staff))
             if "document" in m.data]
    by_name = {r.file_name: r.content for r in h.world.files.values() if r.file_name}
    return {name: by_name[name] for name in names}


async def test_typed_statement_is_checked_and_shown_as_an_aligned_table(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await _to_the_table(h, cast)
    staff = cast.staff
    assert "期初余额" in "\n".join(h.texts(staff)[-3:])
    templates = _sent_files(h, cast)
    assert sorted(templates) == ["财务公开表模板.csv", "财务公开表模板.xlsx"]
    sheet = load_workbook(io.BytesIO(templates["财务公开表模板.xlsx"])).worksheets[0]
    assert [c.value for c in sheet[1]] == ["项目", "期初余额", "本期收入", "本期支出", "期末余额"]
    # a wrong closing balance and a wrong total, each named by its line
    await h.say(staff, "集体经营收入 120000 45000 30000 136000\n上级补助资金 8000 80000 82000 6000\n合计 1 2 3 4")
    errors = h.last(staff)
    assert "第 1 行「集体经营收入 120000 45000 30000 136000」：期末余额不等于" in errors
    assert "第 3 行「合计 1 2 3 4」：合计与各行之和不符" in errors and "第 2 行" not in errors
    await h.say(staff, GOOD)
    preview = "\n".join(h.texts(staff)[-2:])
    table = [line for line in preview.splitlines() if "期初" in line or "集体经营" in line or line.startswith("合计")]
    assert table[0].split() == ["项目", "期初", "收入", "支出", "期末"]
    assert "120,000   45,000   30,000  135,000" in preview and "合计      128,000  125,000  112,000  141,000" in preview
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert notice.table_text == GOOD


async def test_uploaded_sheets_fill_the_table_and_name_a_bad_row(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await _to_the_table(h, cast)
    staff, chat = cast.staff, h.world.private_chat(cast.staff)
    bad_csv = ("项目,期初余额,本期收入,本期支出,期末余额\n集体经营收入,120000,45000,30000,135000\n"
               "上级补助资金,8000,八万,82000,6000\n")
    h.world.user_sends_document(staff, chat, "明细.csv", content=bad_csv.encode("utf-8-sig"))
    await h.flush()
    assert "第 3 行" in h.last(staff) and "金额格式不对" in h.last(staff)  # the sheet's own row number
    missing = "项目,期初余额,本期收入,本期支出,期末余额\n集体经营收入,120000,45000,30000\n"
    h.world.user_sends_document(staff, chat, "明细.csv", content=missing.encode("gb18030"))
    await h.flush()
    assert "第 2 行" in h.last(staff) and "应有五列" in h.last(staff)
    h.world.user_sends_document(staff, chat, "照片.pdf", content=b"%PDF-1.4")
    await h.flush()
    assert h.last(staff) == "请上传 Excel（.xlsx）或 CSV 表格，或者直接输入。"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["项目", "期初余额", "本期收入", "本期支出", "期末余额"],
                ["集体经营收入", 120000, 45000, 30000, 135000], ["上级补助资金", 8000.5, 80000, 82000, 6000.5]):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    h.world.user_sends_document(staff, chat, "明细.xlsx", content=out.getvalue())
    await h.flush()
    preview = "\n".join(h.texts(staff)[-2:])
    assert "8,000.50" in preview and "141,000.50" in preview
    await h.tap(staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert notice.state == "published" and notice.table_text is not None and "8000.5" in notice.table_text


def test_the_board_shows_a_statement_as_a_real_table() -> None:
    from services.board.public import _table

    table = _table(GOOD, [], "合计", frozenset())
    assert table is not None and table.statement
    assert table.rows[0] == ("集体经营收入", "120,000.00", "45,000.00", "30,000.00", "135,000.00")
    assert table.total == ("128,000.00", "125,000.00", "112,000.00", "141,000.00")


def test_sheet_rows_become_lines_with_the_sheets_row_numbers() -> None:
    lines = finance_sheet.sheet_lines("a.csv", "项目,期初,收入,支出,期末\nA,1,2,3,0\nB,,2,1,1\n".encode())
    assert lines.splitlines() == ["", "A 1 2 3 0", "B ? 2 1 1"]
    try:
        parse_table(lines)
    except TableError as error:
        assert [(n, key) for n, _, key in error.errors] == [(3, "table.bad_amount")]
    else:
        raise AssertionError("an empty amount cell must be refused")
