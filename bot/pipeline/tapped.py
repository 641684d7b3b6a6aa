"""The message of a tapped button may be one Telegram no longer shows the bot.

A callback query then carries an aiogram `InaccessibleMessage` (Bot API: date 0, only chat and message id),
which cannot be edited, and an edit of a message that became inaccessible meanwhile fails with a Bad Request.
Either way the tap's decision has been made (bot.pipeline.middlewares commits before telling anybody), so it
stands: the person hears it in the tap's answer, with a word that the message could not be changed, and
nothing is logged as a crash. Handlers that edit the tapped message go through `settle`; those that only
write into the chat use `chat_message`, which an InaccessibleMessage can do too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InaccessibleMessage, Message

from bot.ui.texts import UI
from services.errors import DomainError

log = logging.getLogger("cunwu.updates")

Edit = Callable[[Message], Awaitable[Any]]


def accessible(query: CallbackQuery) -> Message | None:
    """The tapped message when the bot may still edit it (not an InaccessibleMessage, not missing)."""
    return query.message if isinstance(query.message, Message) else None


def chat_message(query: CallbackQuery) -> Message:
    """The tapped message, for writing a new message into its chat (`.answer`): an InaccessibleMessage
    writes into its chat as well. Typed as Message for the helpers that only answer in the chat."""
    if query.message is None:  # a button of an inline message: the bot sends none
        raise DomainError("err.stale_button")
    return query.message  # type: ignore[return-value]  # InaccessibleMessage has .answer, .answer_photo, ...


async def settle(query: CallbackQuery, ui: UI, text: str = "", *, show_alert: bool = False,
                 edit: Edit | None = None) -> bool:
    """Edit the tapped message (when `edit` is given), then answer the tap with `text`. When the message is
    inaccessible or the edit is refused, the answer says the action was done all the same. Returns whether
    the message was edited."""
    edited = edit is None
    message = accessible(query)
    if edit is not None and message is not None:
        try:
            await edit(message)
            edited = True
        except TelegramBadRequest as error:
            edited = "not modified" in error.message  # as it should be already
            log.info("tap %s: its message could not be edited: %s", query.id, error.message)
    if not edited:
        text = "\n".join(part for part in (text, ui.plain("tapped.gone_done")) if part)
    await query.answer(text or None, show_alert=show_alert)
    return edited


def is_inaccessible(query: CallbackQuery) -> bool:
    return isinstance(query.message, InaccessibleMessage)
