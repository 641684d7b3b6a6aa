"""What the county asks for, as tables: compliance per village and quarter (with totals), rectification
orders, inspections; written as Excel (openpyxl) or CSV. A table is columns (keys) and rows of plain values;
the caller names the columns in the reader's language (services hold no words), so an empty township
exports its headers only."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Cadence, Period
from models import Rectification, Township, Village
from services.deadlines.compliance import Tally, township_report
from services.policy import Policy
from services.township.inspections import of_township

Value = str | int | float | None


@dataclass
class Table:
    name: str  # compliance | orders | inspections
    columns: tuple[str, ...]
    rows: list[list[Value]] = field(default_factory=list)
    total: list[Value] | None = None


COMPLIANCE = ("village", "name", "quarter", "on_time", "late", "overdue", "pending", "rate", "overdue_now")
ORDERS = ("order", "village", "name", "ordered_at", "deadline", "obligations", "met", "state", "escalated",
          "closed_at", "note")
INSPECTIONS = ("inspection", "day", "kind", "by", "photos", "village", "name", "finding")


def _rate(tally: Tally) -> float | None:
    return None if tally.rate is None else round(tally.rate, 3)


async def compliance(session: AsyncSession, policy: Policy, township: Township, now: datetime) -> Table:
    """Each village's last four quarters (up to the current one), then a total row per column."""
    quarter = Period.containing(Cadence.QUARTERLY, policy.today(None, now))
    report = await township_report(session, policy, township, quarter, now)
    table, total = Table("compliance", COMPLIANCE), Tally()
    for village in report.villages:
        for code in report.quarters:
            tally = village.quarters[code]
            table.rows.append([village.code, village.name, code, tally.on_time, tally.late, tally.overdue,
                               tally.pending, _rate(tally), len(village.overdue) if code == report.quarter else None])
            for status in ("on_time", "late", "overdue", "pending"):
                setattr(total, status, getattr(total, status) + getattr(tally, status))
    overdue_now = sum(len(v.overdue) for v in report.villages)
    table.total = [None, None, None, total.on_time, total.late, total.overdue, total.pending, _rate(total),
                   overdue_now]
    return table


async def orders(session: AsyncSession, township: Township) -> Table:
    table = Table("orders", ORDERS)
    rows = await session.exec(select(Rectification, Village).join(Village, col(Village.id) == Rectification.village_id)
                              .where(Rectification.township_id == township.id).order_by(col(Rectification.id)))
    for order, village in rows:
        table.rows.append([order.id, village.code, village.name, order.created_at.date().isoformat(),
                           order.deadline.isoformat(), len(order.what), len(order.met_keys), order.state,
                           order.escalated_at.date().isoformat() if order.escalated_at else None,
                           order.closed_at.date().isoformat() if order.closed_at else None, order.note])
    table.total = [len(table.rows), None, None, None, None, sum(int(r[5] or 0) for r in table.rows),
                   sum(int(r[6] or 0) for r in table.rows), None, None, None, None]
    return table


async def inspections(session: AsyncSession, township: Township) -> Table:
    table = Table("inspections", INSPECTIONS)
    for row in await of_township(session, township.id or 0):
        for code, name, text in row.findings or [("", "", "")]:
            table.rows.append([row.id, row.day.isoformat(), row.kind, row.by, len(row.photos), code, name, text])
    return table


async def table(session: AsyncSession, policy: Policy, township: Township, name: str, now: datetime) -> Table:
    if name == "compliance":
        return await compliance(session, policy, township, now)
    if name == "orders":
        return await orders(session, township)
    return await inspections(session, township)


Words = Callable[[str], str]  # a column key (or "total", "sheet") -> the reader's word for it


def _header(found: Table, words: Words) -> list[str]:
    return [words(f"{found.name}.{column}") for column in found.columns]


def _total(found: Table, words: Words) -> list[Value] | None:
    if found.total is None or not found.rows:
        return None
    return [words("total"), *found.total[1:]]


def as_csv(found: Table, words: Words) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens Chinese text as Chinese."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_header(found, words))
    writer.writerows(found.rows)
    total = _total(found, words)
    if total is not None:
        writer.writerow(total)
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(found: Table, words: Words, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = words(f"{found.name}.sheet")[:31]
    sheet.append([title])
    sheet["A1"].font = Font(bold=True)
    sheet.append(_header(found, words))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in found.rows:
        sheet.append(row)
    total = _total(found, words)
    if total is not None:
        sheet.append(total)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    sheet.freeze_panes = "A3"
    for column in sheet.columns:
        width = max((len(str(c.value)) for c in column if c.value is not None and c.row > 1), default=6)
        sheet.column_dimensions[column[0].column_letter].width = min(40, max(8, width * 1.6 + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = ["Table", "as_csv", "as_xlsx", "table"]
