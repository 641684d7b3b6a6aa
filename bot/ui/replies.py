"""Answers longer than one Telegram message."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, Message

from bot.ui.keyboards.common import pick_village
from bot.ui.splitting import split_html


async def send_long(message: Message, html: str, footer: str | None = None,
                    markup: InlineKeyboardMarkup | None = None) -> None:
    """Send `html` in as many parts as it needs; the footer and the buttons come last, on their own."""
    for part in split_html(html):
        await message.answer(part)
    if footer or markup:
        await message.answer(footer or "⬆️", reply_markup=markup)


async def one_or_ask(message: Message, prompt: str, places: Sequence[tuple[int, str]],
                     make: Callable[[int], CallbackData]) -> int | None:
    """The id of the only place (village or township) a command can act on; with several, ask which, one
    button each (`make(id)`, handled by the caller's callback), and return None. Callers refuse none."""
    if len(places) == 1:
        return places[0][0]
    await message.answer(prompt, reply_markup=pick_village(list(places), make))
    return None
