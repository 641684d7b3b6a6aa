"""Answers for whatever no other router matched. Must stay last (see handlers/__init__.py)."""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.ui.texts import UI

router = Routes("fallback")


@router.message(F.chat.type == "private", F.text.startswith("/"))
async def unknown_command(message: Message, ui: UI) -> None:
    await message.answer(ui.t("err.unknown_command"))


@router.message(F.chat.type == "private")
async def unexpected_input(message: Message, ui: UI, state: FSMContext) -> None:
    key = "err.use_buttons" if await state.get_state() is not None else "err.not_expected"
    await message.answer(ui.t(key))


@router.callback_query()
async def stale_button(query: CallbackQuery, ui: UI) -> None:
    """Forged, outdated or foreign callback data: nothing happens, and the person is told so."""
    await query.answer(ui.t("err.stale_button"), show_alert=True)
