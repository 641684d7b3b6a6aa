"""Conversation state in Redis (several instances), written only when the update's transaction commits.

Why: aiogram's RedisStorage writes at once, but the database rolls back when a handler fails. A webhook
update that failed half-way is sent again by Telegram; had its state change already reached Redis, the
second delivery would be routed by the *new* state (the title taken for the body, a role tap answered
"stale button") while the database knows nothing of the first step. Holding the writes back until the
commit keeps Redis and the database in step, as bot/pipeline/fsm_storage.py does for the single-machine case.

Inside an update (a session in bot.pipeline.fsm_storage.current_session) writes go to a buffer on that session,
reads see the buffer first, and the middleware flushes the buffer after its commit (`flush_after_commit`).
Outside an update (the scheduler, the CLI) writes go straight to Redis.

What is left: a process killed between the commit and the flush loses that one state change (the update
is confirmed processed, so it is not replayed); the person's next message is read in the old state and
/cancel or /start ends it. The window is one Redis round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from bot.pipeline.fsm_storage import current_session

if TYPE_CHECKING:  # redis (~6 MB resident) is imported only when REDIS_URL is set (bot.process.wiring)
    from aiogram.fsm.storage.redis import RedisStorage
    from sqlmodel.ext.asyncio.session import AsyncSession

PENDING = "cunwu.fsm_pending"  # session.info key: {StorageKey: {"state": ..., "data": ...}}


class CommitBoundRedisStorage(BaseStorage):
    def __init__(self, inner: RedisStorage) -> None:
        self.inner = inner
        self.redis = inner.redis  # /healthz pings it

    @staticmethod
    def _buffer(key: StorageKey) -> dict[str, Any] | None:
        session = current_session.get()
        if session is None:
            return None
        pending: dict[StorageKey, dict[str, Any]] = session.info.setdefault(PENDING, {})
        return pending.setdefault(key, {})

    @staticmethod
    def _buffered(key: StorageKey) -> dict[str, Any]:
        session = current_session.get()
        if session is None:
            return {}
        return dict(session.info.get(PENDING, {}).get(key, {}))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        buffer = self._buffer(key)
        if buffer is None:
            await self.inner.set_state(key, value)
        else:
            buffer["state"] = value

    async def get_state(self, key: StorageKey) -> str | None:
        buffered = self._buffered(key)
        return buffered["state"] if "state" in buffered else await self.inner.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        buffer = self._buffer(key)
        if buffer is None:
            await self.inner.set_data(key, data)
        else:
            buffer["data"] = dict(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        buffered = self._buffered(key)
        return dict(buffered["data"]) if "data" in buffered else await self.inner.get_data(key)

    async def close(self) -> None:
        await self.inner.close()

    async def flush(self, session: AsyncSession) -> None:
        pending: dict[StorageKey, dict[str, Any]] = session.info.pop(PENDING, {})
        for key, values in pending.items():
            if "state" in values:
                await self.inner.set_state(key, values["state"])
            if "data" in values:
                await self.inner.set_data(key, values["data"])


async def flush_after_commit(storage: BaseStorage, session: AsyncSession) -> None:
    """Called by the update middleware right after its commit; a no-op for any other storage."""
    if isinstance(storage, CommitBoundRedisStorage):
        await storage.flush(session)
