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
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session as SyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from models import FsmRecord
from models.types import utcnow

ABSENT = "cunwu.fsm_absent"  # session.info key: FSM keys this session found absent
HELD = "cunwu.fsm_held"  # session.info key: records read by another statement, held so the identity map keeps them
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)


def record_key(key: StorageKey) -> str:
    return f"{key.bot_id}:{key.chat_id}:{key.thread_id or 0}:{key.user_id}:{key.destiny}"


def already_read(session: AsyncSession, key: str, record: FsmRecord | None) -> None:
    """The record was read in this session by another statement (bot/pipeline/acting.py): a record sits in the
    identity map already (held here: the map keeps only objects someone references), an absent one is
    remembered here, so aiogram's read of the state costs nothing."""
    if record is None:
        session.info.setdefault(ABSENT, set()).add(key)
    else:
        session.info.setdefault(HELD, {})[key] = record


@event.listens_for(SyncSession, "after_soft_rollback")
def _forget_after_rollback(session: SyncSession, _previous: Any) -> None:
    """A rollback undoes what this session wrote and expires what it read: read it again if asked."""
    session.info.pop(HELD, None)
    session.info.pop(ABSENT, None)


class DatabaseStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def _get(self, session: AsyncSession, key: str) -> FsmRecord | None:
        """The record, or None. What this session read or wrote is answered from session.info: a record
        (held, so the identity map keeps it; a new one is not even flushed yet) or the key's absence, because
        the identity map remembers only rows that exist and aiogram reads the state of every update."""
        held: dict[str, FsmRecord] = session.info.setdefault(HELD, {})
        absent: set[str] = session.info.setdefault(ABSENT, set())
        if key in held:
            return held[key]
        if key in absent:
            return None
        record = await session.get(FsmRecord, key)
        if record is None:
            absent.add(key)
        else:
            held[key] = record
        return record

    async def _change(self, key: StorageKey, **values: Any) -> None:
        session = current_session.get()
        if session is not None:
            await self._apply(session, record_key(key), values)
            return
        async with self.sessions() as own:
            await self._apply(own, record_key(key), values)
            await own.commit()

    async def _apply(self, session: AsyncSession, key: str, values: dict[str, Any]) -> None:
        record = await self._get(session, key)
        if record is None:
            if not any(values.values()):
                return  # clearing a conversation that never started (every /start does): nothing to write
            record = FsmRecord(key=key)
            session.info.setdefault(ABSENT, set()).discard(key)
        elif all(getattr(record, name) == value for name, value in values.items()):
            return
        for name, value in values.items():
            setattr(record, name, value)
        if record.state is None and not record.data:  # ended: keep one row per live conversation only
            if record in session.new:
                session.expunge(record)  # begun and ended in this update: never written
            else:
                await session.delete(record)
            session.info[HELD].pop(key, None)
            session.info[ABSENT].add(key)
        else:
            record.updated_at = utcnow()
            session.add(record)
            session.info[HELD][key] = record
        # Not flushed here: a state and its data set one after the other become one statement, written with
        # the handler's other rows (before the next query, or at the commit).

    async def _read(self, key: StorageKey) -> FsmRecord | None:
        session = current_session.get()
        if session is not None:
            return await self._get(session, record_key(key))
        async with self.sessions() as own:
            return await own.get(FsmRecord, record_key(key))

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
