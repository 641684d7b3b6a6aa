"""Buttons for adding photos to an inspection record (/inspections): pick a record (ip1), then done (ipd1).
Both carry the record's id only; the server re-checks that the tapping person inspects its township."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.ui.texts import UI
from models import Inspection, Township


class InspectionPick(CallbackData, prefix="ip1"):
    inspection_id: int


class InspectionDone(CallbackData, prefix="ipd1"):
    inspection_id: int


def records(ui: UI, found: Sequence[tuple[Inspection, Township, int]], several: bool) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=ui.plain("insp.btn.record", day=row.day.isoformat(), kind=ui.plain(f"insp.kind.{row.kind}"),
                      count=count, township=f"{township.name} " if several else ""),
        callback_data=InspectionPick(inspection_id=row.id or 0).pack())] for row, township, count in found])


def done(ui: UI, inspection_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=ui.plain("insp.btn.done"), callback_data=InspectionDone(inspection_id=inspection_id).pack())]])
