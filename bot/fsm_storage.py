"""aiogram FSM storage in the project's database, used when no Redis is configured.

A conversation must survive a restart of a single-machine bot, which aiogram's MemoryStorage cannot do.
Inside an update the storage writes through that update's own session (found in a ContextVar), so the
state change commits atomically with the rows the handler changed, and SQLite never waits on itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import FsmRecord
from models.types import utcnow

current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


def _key(key: StorageKey) -> str:
    return f"{key.bot_id}:{key.chat_id}:{key.thread_id or 0}:{key.user_id}:{key.destiny}"


class DatabaseStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def _load(self, session: AsyncSession, key: StorageKey) -> FsmRecord:
        record = await session.get(FsmRecord, _key(key))
        return record or FsmRecord(key=_key(key))

    async def _change(self, key: StorageKey, **values: Any) -> None:
        session = current_session.get()
        if session is not None:
            await self._apply(session, key, values)
            return
        async with self.sessions() as own:
            await self._apply(own, key, values)
            await own.commit()

    async def _apply(self, session: AsyncSession, key: StorageKey, values: dict[str, Any]) -> None:
        record = await self._load(session, key)
        for name, value in values.items():
            setattr(record, name, value)
        record.updated_at = utcnow()
        session.add(record)
        await session.flush()

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        session = current_session.get()
        if session is not None:
            return await session.get(FsmRecord, _key(key))
        async with self.sessions() as own:
            return await own.get(FsmRecord, _key(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._change(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._read(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._change(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._read(key)
        return dict(record.data) if record else {}

    async def close(self) -> None:
        return None
