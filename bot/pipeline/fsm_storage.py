"""aiogram FSM storage in the project's database, used when no Redis is configured.

A conversation must survive a restart of a single-machine bot, which aiogram's MemoryStorage cannot do.
Inside an update the storage writes through that update's own session (found in a ContextVar), so the
state change commits atomically with the rows the handler changed, and SQLite never waits on itself.

The table is read and written with SQLAlchemy Core statements, not ORM objects: a flush of one ORM row
cost ~0.3-0.5 ms of the event loop's CPU more than the statement itself, and aiogram touches the state of
most updates. What this session read or changed is kept in `session.info` (`KNOWN`), so aiogram's reads
cost nothing after the update's first statement (bot/pipeline/acting.py reads the conversation with the
person and hands it over, `already_read`). A change is held back (`UNWRITTEN`, with what the database
held before it) and written by `_write_before_commit`, a listener on the session's `before_commit`: a state
and its data set one after the other are one statement, a change undone in the same update is none, and
the write joins the handler's rows in their transaction. The listener rather than the update middleware's
commit, because every commit of the session runs it: a handler or service committing the update's session
itself cannot commit the handler's rows without the conversation's. A rollback forgets both
(`_forget_after_rollback`): the change held back is dropped with the rows, and what was read is read again.
The project uses no savepoints; one rolled back would drop a change held back from before it as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, NamedTuple

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import Delete, Select, Table, TextClause, bindparam, delete, event, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session as SyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from models import FsmRecord
from models.types import utcnow

KNOWN = "cunwu.fsm_known"  # session.info key: {record key: Conversation, or None for no row} read or set here
UNWRITTEN = "cunwu.fsm_unwritten"  # session.info key: {record key: what the database holds} for changes held back
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)

_TABLE: Table = FsmRecord.__table__  # type: ignore[attr-defined]
_READ: Select[Any] = select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == bindparam("fsm_key"))
_DELETE: Delete = delete(_TABLE).where(_TABLE.c.key == bindparam("fsm_key"))


class Conversation(NamedTuple):
    """A conversation's row in fsm_state: there is one only while a state or some data is set."""

    state: str | None
    data: dict[str, Any]


def record_key(key: StorageKey) -> str:
    return f"{key.bot_id}:{key.chat_id}:{key.thread_id or 0}:{key.user_id}:{key.destiny}"


def already_read(session: AsyncSession, key: str, conversation: Conversation | None) -> None:
    """The conversation was read in this session by another statement (bot/pipeline/acting.py; None: no row),
    so aiogram's read of the state costs nothing."""
    session.info.setdefault(KNOWN, {})[key] = conversation


def _conversation_upsert() -> TextClause:
    """INSERT .. ON CONFLICT (key) DO UPDATE, the same SQL on SQLite and PostgreSQL. Written as text because
    SQLAlchemy does not cache the dialects' own ON CONFLICT constructs (their Insert has `inherit_cache =
    False`): built with them, the statement was compiled again for every write (~0.1 ms of the loop's CPU)."""
    columns = ("key", "state", "data", "updated_at")
    return text(
        f'INSERT INTO {_TABLE.name} ("key", state, data, updated_at) VALUES (:key, :state, :data, :updated_at)'
        ' ON CONFLICT ("key") DO UPDATE SET state = excluded.state, data = excluded.data,'
        ' updated_at = excluded.updated_at'
    ).bindparams(*(bindparam(name, type_=_TABLE.c[name].type) for name in columns))


CONVERSATION_UPSERT = _conversation_upsert()


@event.listens_for(SyncSession, "before_commit")
def _write_before_commit(session: SyncSession) -> None:
    """The conversations changed in this session since its last commit, written in its transaction before
    the ORM flushes the handler's rows: a row set, or deleted once the conversation ended. Runs inside
    SQLAlchemy's greenlet, so the Core statements are called synchronously."""
    unwritten: dict[str, Conversation | None] | None = session.info.pop(UNWRITTEN, None)
    if not unwritten:
        return
    known: dict[str, Conversation | None] = session.info[KNOWN]
    connection = session.connection()
    for key, stored in unwritten.items():
        now = known[key]
        if now == stored:
            continue  # changed and changed back
        if now is None:
            connection.execute(_DELETE, {"fsm_key": key})
        else:
            connection.execute(CONVERSATION_UPSERT,
                               {"key": key, "state": now.state, "data": now.data, "updated_at": utcnow()})


@event.listens_for(SyncSession, "after_soft_rollback")
def _forget_after_rollback(session: SyncSession, _previous: Any) -> None:
    """A rollback undoes what this session wrote (and drops what it held back): read it again if asked."""
    session.info.pop(KNOWN, None)
    session.info.pop(UNWRITTEN, None)


class DatabaseStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def _get(self, session: AsyncSession, key: str) -> Conversation | None:
        """The conversation, or None: read once per session, then answered from session.info."""
        known: dict[str, Conversation | None] = session.info.setdefault(KNOWN, {})
        if key in known:
            return known[key]
        connection = await session.connection()
        row = (await connection.execute(_READ, {"fsm_key": key})).first()
        known[key] = conversation = None if row is None else Conversation(row.state, row.data)
        return conversation

    async def _change(self, key: StorageKey, **values: Any) -> None:
        session = current_session.get()
        if session is not None:
            await self._apply(session, record_key(key), values)
            return
        async with self.sessions() as own:
            await self._apply(own, record_key(key), values)
            await own.commit()

    async def _apply(self, session: AsyncSession, key: str, values: dict[str, Any]) -> None:
        """Held back until the session commits (`_write_before_commit`); clearing a conversation that never
        started (every /start does) changes nothing, so nothing is written."""
        before = await self._get(session, key)
        changed = (before or Conversation(None, {}))._replace(**values)
        # ended: keep one row per live conversation only
        after = None if changed.state is None and not changed.data else changed
        if after == before:
            return
        if not session.in_transaction():  # after a commit, answered from session.info: no statement began one
            session.sync_session.begin()  # so that a rollback, a no-op without one, drops this change too
        session.info.setdefault(UNWRITTEN, {}).setdefault(key, before)
        session.info[KNOWN][key] = after

    async def _read(self, key: StorageKey) -> Conversation | None:
        session = current_session.get()
        if session is not None:
            return await self._get(session, record_key(key))
        async with self.sessions() as own:
            return await self._get(own, record_key(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._change(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        conversation = await self._read(key)
        return conversation.state if conversation else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._change(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        conversation = await self._read(key)
        return dict(conversation.data) if conversation else {}

    async def close(self) -> None:
        return None
