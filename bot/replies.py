"""Answers longer than one Telegram message."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, Message

from bot.splitting import split_html


async def send_long(message: Message, html: str, footer: str | None = None,
                    markup: InlineKeyboardMarkup | None = None) -> None:
    """Send `html` in as many parts as it needs; the footer and the buttons come last, on their own."""
    for part in split_html(html):
        await message.answer(part)
    if footer or markup:
        await message.answer(footer or "⬆️", reply_markup=markup)
