"""Callback factories and keyboards of the deadline conversations: nags, /event.

The separator is "|" because catalog item ids contain ":" ("jyv:sw.20"). Callbacks carry ids only;
the handlers re-check the tapping person's role in that village every time.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.texts import UI


class NagDraft(CallbackData, prefix="nd1", sep="|"):
    village_id: int
    item: str  # full item id, "" for an event obligation without one
    period: str  # "2026Q1", "long" or ""
    ob: int  # an event obligation's id, 0 for a periodic one


class NagSnooze(CallbackData, prefix="nz1", sep="|"):
    village_id: int
    item: str
    period: str
    ob: int


class EventVillage(CallbackData, prefix="ev1"):
    village_id: int


class EventKind(CallbackData, prefix="ek1"):
    village_id: int
    kind: str


def _label(ui: UI, button: dict[str, Any]) -> str:
    text = str(button.get(ui.lang) or "") or ui.plain(f"dl.rule.{button.get('r') or 'adhoc'}")
    return text[:24]


def nag(ui: UI, village_id: int, buttons: list[dict[str, Any]]) -> InlineKeyboardMarkup | None:
    rows = []
    for b in buttons:
        ids = {"village_id": village_id, "item": b.get("i") or "", "period": b.get("p") or "",
               "ob": int(b.get("o") or 0)}
        row = [InlineKeyboardButton(text=ui.plain("dl.btn.draft", label=_label(ui, b)),
                                    callback_data=NagDraft(**ids).pack())]
        if b.get("s"):
            row.append(InlineKeyboardButton(text=ui.plain("dl.btn.snooze", label=_label(ui, b)[:10]),
                                            callback_data=NagSnooze(**ids).pack()))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def event_kinds(ui: UI, village_id: int, kinds: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind in kinds:
        builder.button(text=ui.t(f"dl.event.{kind}"), callback_data=EventKind(village_id=village_id, kind=kind))
    builder.adjust(1)
    return builder.as_markup()
