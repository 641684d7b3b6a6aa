"""A command sent in the middle of a conversation leaves the conversation and runs.

Without this, a handler waiting for text ("the title, please") would swallow /drafts or /review and answer
"send /drafts": a loop. What the conversation collected is in the database already (a draft is saved at
every step), so leaving loses nothing; the person is told what became of it, and the command goes on to
its own handler (aiogram's SkipHandler passes the update to the next matching handler and router).
Register it in a router before the command handlers (handlers/conversations.py), and keep the
conversation's own handlers from matching commands.
(/help, /cancel, /start and /lang are answered earlier, by the onboarding router, and never get here.)
"""

from __future__ import annotations

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.pipeline.routes import Routes
from bot.ui.texts import UI


def leave_on_command(routes: Routes, states: type[StatesGroup], note_key: str) -> None:
    """In any state of `states`, a /command clears the state, says `note_key`, and is handled as usual."""

    @routes.message(StateFilter(states), F.text.startswith("/"))
    async def leave(message: Message, state: FSMContext, ui: UI) -> None:
        await state.clear()
        await message.answer(ui.t(note_key))
        raise SkipHandler()


def wait_for_buttons(routes: Routes, *states: State) -> None:
    """In a state whose step shows buttons (a picker), anything but a command (typed text, a photo, a sticker)
    is answered with "please tap one of the buttons above" rather than taken as an answer, swallowed, or
    offered as a question; a command leaves the picker and runs. One pair of handlers for every such state,
    declared in handlers/conversations.py. (/cancel, /help, /start and /lang are answered earlier.)"""

    @routes.message(StateFilter(*states), F.text.startswith("/"))
    async def leave_picker(message: Message, state: FSMContext) -> None:
        """A command leaves the picker quietly (nothing was collected yet that needs a word) and runs."""
        await state.clear()
        raise SkipHandler()

    @routes.message(StateFilter(*states), ~F.text.startswith("/"))
    async def tap_a_button(message: Message, ui: UI) -> None:
        await message.answer(ui.t("err.use_buttons"))
