"""Buttons of the township's desk on /report and the weekly report: 督办 (urge) a village and 限期整改 (order
rectification, the deadline picked from a few choices). Callbacks carry the village's id only: the server
re-checks that the tapping person inspects that village's township (services/township/access.py)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.ui.keyboards.common import shorten
from bot.ui.texts import UI

DEADLINE_DAYS = (7, 15, 30)
MAX_VILLAGES = 5


class DeskUrge(CallbackData, prefix="du1"):
    village_id: int


class DeskRectifyAsk(CallbackData, prefix="dk1"):
    village_id: int


class DeskRectify(CallbackData, prefix="dr1"):
    village_id: int
    days: int  # from today; one of DEADLINE_DAYS (anything else is refused by the handler)


def villages(ui: UI, found: Sequence[tuple[int, str]], console: str | None = None) -> InlineKeyboardMarkup | None:
    """Per village needing action (worst first): urge, rectify; then the console's link when there is one."""
    rows = [[InlineKeyboardButton(text=ui.plain("desk.btn.urge", village=shorten(name, 24)),
                                  callback_data=DeskUrge(village_id=vid).pack()),
             InlineKeyboardButton(text=ui.plain("desk.btn.rectify", village=shorten(name, 24)),
                                  callback_data=DeskRectifyAsk(village_id=vid).pack())]
            for vid, name in found[:MAX_VILLAGES]]
    if console:
        rows.append([InlineKeyboardButton(text=ui.plain("desk.btn.console"), url=console)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def deadlines(ui: UI, village_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=ui.plain("desk.btn.days", days=days),
                             callback_data=DeskRectify(village_id=village_id, days=days).pack())
        for days in DEADLINE_DAYS]])


def console_app(ui: UI, url: str) -> InlineKeyboardMarkup:
    """The console opened inside Telegram (a Mini App: Telegram sends only https addresses to web_app)."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=ui.plain("desk_app.btn.open"), web_app=WebAppInfo(url=url))]])
