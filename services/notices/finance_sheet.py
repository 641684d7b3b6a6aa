"""A finance statement uploaded as a sheet (CSV or Excel .xlsx), and the template the bot sends for it.

A sheet becomes the same lines a clerk would type ("item opening income spending closing"), one per sheet
row, so the one parser (finance_table) checks it and its errors name the sheet's own row numbers. The
heading row is kept as an empty line for that reason. Excel files are read with openpyxl (read-only,
values not formulas); CSV in UTF-8 (with or without BOM) or GB18030, as Chinese Excel saves it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from services.errors import DomainError

MAX_BYTES = 1_000_000
EXAMPLE = ((120000, 45000, 30000, 135000), (8000, 80000, 82000, 6000))  # amounts of the template's two rows


def sheet_lines(file_name: str, content: bytes) -> str:
    """The sheet's rows as typed lines; DomainError for a file that is not a CSV or .xlsx sheet."""
    if len(content) > MAX_BYTES:
        raise DomainError("finance.too_big")
    name = file_name.lower()
    rows: Iterable[Sequence[Any]]
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(content)
    elif name.endswith((".csv", ".txt")):
        rows = _csv_rows(content)
    else:
        raise DomainError("finance.bad_file")
    return "\n".join(_line(cells) for cells in rows)


def _line(cells: Sequence[Any]) -> str:
    values = [_cell(c) for c in cells]
    while values and not values[-1]:
        values.pop()
    if values and not any(_is_number(v) for v in values[1:]):
        return ""  # the heading row (or a note): an empty line, so row numbers stay the sheet's
    return " ".join(v if v else "?" for v in values)  # an empty cell inside the row is named by the parser


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", "").removesuffix("元"))
    except InvalidOperation:
        return False
    return True


def _csv_rows(content: bytes) -> Iterable[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError("finance.bad_file")
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(content: bytes) -> Iterable[tuple[Any, ...]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several kinds for a file that is not a workbook
        raise DomainError("finance.bad_file") from error
    try:
        return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def template_csv(headings: Sequence[str], items: Sequence[str]) -> bytes:
    """`headings`: the five column names; `items`: the two example rows' names (the caller's language)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    writer.writerows([item, *amounts] for item, amounts in zip(items, EXAMPLE, strict=True))
    return out.getvalue().encode("utf-8-sig")  # the BOM: Excel opens it as UTF-8


def template_xlsx(headings: Sequence[str], items: Sequence[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(headings))
    for item, amounts in zip(items, EXAMPLE, strict=True):
        sheet.append([item, *amounts])
    sheet.column_dimensions["A"].width = 24
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
