"""Buttons into the public board: a notice's page (a URL button on every group post), a village's board and
its Mini App (/board), and the poster buttons on the author's "published" message."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.ui.texts import UI


class PosterSize(StrEnum):
    A4 = "a4"
    A3 = "a3"


class PosterRequest(CallbackData, prefix="pp1"):
    """The poster of a notice; the server re-checks that the tapping person is staff of its village."""

    notice_id: int
    size: PosterSize  # anything else does not parse


def page_button(ui: UI, url: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=ui.plain("btn.board_page"), url=url)


def published(ui: UI, notice_id: int, page_url: str | None) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=ui.plain(f"btn.poster_{size.value}"),
                                  callback_data=PosterRequest(notice_id=notice_id, size=size).pack())]
            for size in PosterSize]
    if page_url:
        rows.append([page_button(ui, page_url)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def boards(ui: UI, links: list[tuple[str, str, str | None]]) -> InlineKeyboardMarkup:
    """(village name, board URL, Mini App URL or None) per village: a web_app button opens the same board
    inside Telegram (private chats only, https only)."""
    rows = []
    for name, url, app_url in links:
        row = [InlineKeyboardButton(text=ui.plain("btn.board_open", village=name), url=url)]
        if app_url:
            row.append(InlineKeyboardButton(text=ui.plain("btn.board_app"), web_app=WebAppInfo(url=app_url)))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows)
