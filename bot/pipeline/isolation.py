"""One update at a time per conversation, with the database commit inside the lock.

aiogram's FSM middleware takes the event-isolation lock and reads the state; it runs before any
middleware registered after the Dispatcher is built, so it would read the state outside the update's
database session (a second connection, a second read) and release the lock before that session commits.
The wiring therefore takes the lock first (`UpdateIsolation`), then opens the session (UpdateContext),
and only then lets aiogram's FSM middleware read the state, inside that session, with its own isolation
disabled. The next update of the same chat waits until this one has committed, so it reads the new state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.types import TelegramObject

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateIsolation(BaseMiddleware):
    """Holds the conversation's lock around everything after it, the commit included."""

    def __init__(self, fsm: FSMContextMiddleware, isolation: BaseEventIsolation) -> None:
        self.fsm, self.isolation = fsm, isolation

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        bot: Bot = data["bot"]
        context = self.fsm.resolve_event_context(bot, data)
        if context is None:  # an update with no chat and no user (a poll's results): nothing to order
            return await handler(event, data)
        async with self.isolation.lock(context.key):
            return await handler(event, data)


class ChatLocks(BaseEventIsolation):
    """In-process locks per conversation key, forgotten when nobody holds or awaits them.

    aiogram's SimpleEventIsolation keeps a lock for every chat it has ever seen (its own TODO says so);
    in a county that is every resident who ever wrote to the bot.
    """

    def __init__(self) -> None:
        self._locks: dict[StorageKey, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            held = self._locks.get(key)  # close() may have forgotten every lock while this one was held
            if held is not None:
                if held[1] <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (held[0], held[1] - 1)

    def __len__(self) -> int:
        return len(self._locks)

    async def close(self) -> None:
        self._locks.clear()
