"""Group chatter no handler takes is dropped before the conversation lock and the database session.

The bot is an admin of the resident groups it is bound to, so it receives every message said there; in a busy
village that is most of its traffic. In a group the routers take only commands (/bind, /unbind, /join, /start,
/help, /board: a text or caption that begins with "/") and the notice that a group became a supergroup
(`migrate_to_chat_id`). Everything else fell through every router after a session was opened, the person read
(or created) and an empty transaction committed. `QuietGroups`, the first outer middleware, answers such an
update as unhandled from the update alone. tests/runtime/test_routes.py offers group chatter to every message
handler the wiring builds, in every conversation state, and fails when one would take it: a new group handler
must be named here as well.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Message, TelegramObject, Update

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
GROUP_TYPES = frozenset({"group", "supergroup"})


def group_chatter(message: Message) -> bool:
    """A message in a group that no router takes: neither a command nor a migration notice."""
    if message.chat.type not in GROUP_TYPES or message.migrate_to_chat_id is not None:
        return False
    return not (message.text or message.caption or "").startswith("/")


class QuietGroups(BaseMiddleware):
    """Unhandled at once for group chatter (see the module docstring); every other update goes on."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        message = event.message if isinstance(event, Update) else None
        if message is not None and group_chatter(message):
            return UNHANDLED
        return await handler(event, data)
