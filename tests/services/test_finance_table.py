"""services.notices.finance_table: "item amount" lines parsed into Decimal rows and rendered aligned."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest

from services.notices.finance_table import MAX_ROWS, FinanceTable, Row, TableError, parse_table, render_table

EXAMPLE = "村道维修 12,500.00\n办公用品 ３２０\n保洁工资　1800元\n-退回押金 -500\n"


def width(text: str) -> int:
    """Independent display width: W/F take two columns, combining marks none, the rest one."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def reasons(text: str) -> list[tuple[int, str]]:
    with pytest.raises(TableError) as caught:
        parse_table(text)
    return [(line_no, key) for line_no, _, key in caught.value.errors]


# --- parsing ----------------------------------------------------------------------------------


def test_example_from_the_brief() -> None:
    table = parse_table(EXAMPLE)
    assert table.rows == [
        Row("村道维修", Decimal("12500.00")),
        Row("办公用品", Decimal("320")),
        Row("保洁工资", Decimal("1800")),
        Row("-退回押金", Decimal("-500")),
    ]
    assert table.total == Decimal("14120.00")


def test_full_width_input() -> None:
    table = parse_table("电费　１２，３４５．６７元\n水费 ￥８９\n退款　－１０．５\n押金 ¥－２")
    assert [row.amount for row in table.rows] == [
        Decimal("12345.67"), Decimal("89"), Decimal("-10.5"), Decimal("-2"),
    ]  # fmt: skip
    assert [row.item for row in table.rows] == ["电费", "水费", "退款", "押金"]


@pytest.mark.parametrize(
    ("line", "item", "amount"),
    [
        ("退回押金 -500", "退回押金", "-500"),
        ("退回押金 - 500", "退回押金", "-500"),
        ("退款 -¥500", "退款", "-500"),
        ("退款 ¥-500", "退款", "-500"),
        ("退款 \u2212500", "退款", "-500"),
        ("零 -0", "零", "0"),
        ("型号A-500", "型号A-", "500"),  # a glued hyphen is part of the item
        ("2024年1月 第3组工资 1,800 元", "2024年1月 第3组工资", "1800"),
        ("第3组500", "第3组", "500"),
        ("  多个   空格\t项目  7.5  ", "多个 空格 项目", "7.5"),
        ("Office supplies 1,234,567.89", "Office supplies", "1234567.89"),
        ("利息 0.01¥", "利息", "0.01"),
    ],
)
def test_items_and_signed_amounts(line: str, item: str, amount: str) -> None:
    (row,) = parse_table(line).rows
    assert row == Row(item, Decimal(amount))
    assert not row.amount.is_signed() or row.amount < 0


def test_totals_are_exact_decimals() -> None:
    table = parse_table("甲 0.1\n乙 0.2")
    assert table.total == Decimal("0.3")
    assert isinstance(table.total, Decimal)
    ten_cents = parse_table("\n".join(f"项{i} 0.10" for i in range(10)))
    assert ten_cents.total == Decimal("1.00")
    assert parse_table("收 0.3\n退 -0.1\n退 -0.2").total == 0


def test_blank_lines_are_skipped_and_numbering_keeps_them() -> None:
    assert len(parse_table("\n\n甲 1\n  \n乙 2\n").rows) == 2
    assert reasons("甲 1\n\n乙\n") == [(3, "table.no_amount")]


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("只有项目", "table.no_amount"),
        ("金额写在前面 500 已付", "table.no_amount"),
        ("500", "table.no_item"),
        ("¥ -500元", "table.no_item"),
        ("坏分组 1,2500", "table.bad_amount"),
        ("两个小数点 1.2.3", "table.bad_amount"),
        ("结尾逗号 500,", "table.bad_amount"),
        ("三位小数 1.005", "table.too_many_decimals"),
        ("全角三位小数 １．００５", "table.too_many_decimals"),
    ],
)
def test_bad_line_reasons(line: str, key: str) -> None:
    assert reasons(line) == [(1, key)]


def test_all_bad_lines_are_reported_with_numbers() -> None:
    text = "好 1\n坏\n好 2\n500\n也好 3\n小数 1.234\n分组 12,34\n"
    with pytest.raises(TableError) as caught:
        parse_table(text)
    error = caught.value
    assert error.errors == [
        (2, "坏", "table.no_amount"),
        (4, "500", "table.no_item"),
        (6, "小数 1.234", "table.too_many_decimals"),
        (7, "分组 12,34", "table.bad_amount"),
    ]
    assert (error.line_no, error.line, error.reason_key) == (2, "坏", "table.no_amount")


def test_error_keeps_the_line_as_typed() -> None:
    with pytest.raises(TableError) as caught:
        parse_table("全角　１．２３４元")
    assert caught.value.errors == [(1, "全角　１．２３４元", "table.too_many_decimals")]


def test_table_error_can_be_raised_for_one_line() -> None:
    error = TableError(3, "x", "table.no_item")
    assert error.errors == [(3, "x", "table.no_item")]
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("text", ["", "   ", "\n\n　\n"])
def test_empty_input(text: str) -> None:
    assert reasons(text) == [(0, "table.empty")]


def test_too_many_rows_reported_once_with_other_errors() -> None:
    lines = [f"项目{i} {i}" for i in range(MAX_ROWS)]
    assert len(parse_table("\n".join(lines)).rows) == MAX_ROWS
    text = "\n".join([*lines, "多一行 1", "又一行 2", "坏行"])
    assert reasons(text) == [(MAX_ROWS + 1, "table.too_many_rows"), (MAX_ROWS + 3, "table.no_amount")]


# --- rendering --------------------------------------------------------------------------------


def test_render_example() -> None:
    assert render_table(parse_table(EXAMPLE)).splitlines() == [
        "村道维修   12,500.00",
        "办公用品      320.00",
        "保洁工资    1,800.00",
        "-退回押金    -500.00",
        "--------------------",
        "合计       14,120.00",
    ]


def test_all_lines_have_the_same_display_width_with_mixed_scripts() -> None:
    text = (
        "A4纸 Paper 35.5\n"
        "村民小组长误工补贴（第一季度）1,234,567.89\n"
        "Very long English item name for wrapping 12\n"
        "café 3\n"  # combining accent
        "全角ＡＢＣ －0.01\n"
        "x 0\n"
    )
    rendered = render_table(parse_table(text), total_label="合计 Total")
    lines = rendered.splitlines()
    assert len({width(line) for line in lines}) == 1, rendered
    assert lines[-1].startswith("合计 Total") and lines[-1].endswith("1,234,618.38")
    assert lines[-2] == "-" * width(lines[0])


def test_long_items_wrap_without_cutting_characters() -> None:
    item = "村道维修工程款项目第二期尾款结算"  # 16 characters, 32 columns
    lines = render_table(parse_table(f"{item} 1")).splitlines()
    assert lines[0].startswith("村道维修工程款项") and lines[0].endswith("1.00")
    assert lines[1].rstrip() == "目第二期尾款结算"
    assert len({width(line) for line in lines}) == 1
    odd = render_table(parse_table("a村道维修工程款项目第二期 2")).splitlines()  # 2-wide char at column 16
    assert odd[0].startswith("a村道维修工程款 ") and odd[1].startswith("项目第二期")
    assert len({width(line) for line in odd}) == 1


def test_amounts_right_aligned_with_two_decimals() -> None:
    lines = render_table(FinanceTable([Row("甲", Decimal("1")), Row("乙", Decimal("-1234.5"))])).splitlines()
    assert lines[0].endswith("     1.00") and lines[1].endswith("-1,234.50")
    assert lines[-1].endswith("-1,233.50")


def test_render_empty_table() -> None:
    assert render_table(FinanceTable([])).splitlines() == ["-" * 10, "合计  0.00"]


def test_a_statement_wraps_english_items_between_words_and_chinese_between_characters() -> None:
    text = ("Transfers from above 100 50 20 130\n"
            "Infrastructure 0 10 0 10\n"
            "上级转移支付资金 5 0 5 0\n")
    lines = render_table(parse_table(text), total_label="Total",
                         headings=("Item", "Opening", "Income", "Spending", "Closing")).splitlines()
    items = [line.split("  ")[0].strip() for line in lines]
    assert ["Transfers", "from", "above", "Infrastructure"] == [i for i in items if i.isascii() and i.isalpha()
                                                                and i not in ("Item", "Total")]
    assert "上级转移" in items and "支付资金" in items
    assert len({width(line) for line in lines}) == 1
