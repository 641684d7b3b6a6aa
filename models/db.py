"""Engine and session factory: SQLite (WAL, busy timeout) by default, PostgreSQL at scale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from models.sqlite_hops import OneHopDBAPI

SQLITE_BUSY_TIMEOUT_MS = 15000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer commits; busy_timeout makes writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        # Sessions and `engine.connect()` blocks end their transaction themselves (commit, or rollback on
        # close), so the pool's extra rollback at check-in is only one more hop to aiosqlite's thread.
        kwargs.setdefault("pool_reset_on_return", None)
        # One hop to aiosqlite's thread per statement, not four (models/sqlite_hops.py): on the loaded 2-CPU
        # machine the dispatch mix went from 9.5 hops an update to 2.9, its ratio from 0.13 to 0.17. It was off for
        # a while after the demo's scheduler once hit "database is locked"; that hazard was not this adapter's:
        # APScheduler's job store, synchronous SQLite, wrote on the event loop's thread, so a write meeting an
        # update's open write transaction stopped the loop that transaction needed to commit, whichever adapter
        # ran it. The store now works off the loop's thread (reminders/loop.py).
        if make_url(url).get_driver_name() == "aiosqlite":
            kwargs.setdefault("module", OneHopDBAPI())
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(url, **kwargs)


def upsert(dialect: str) -> Callable[..., Any]:
    """The dialect's INSERT (with ON CONFLICT) for a dialect's name. PostgreSQL's dialect is imported only where
    it is used: a bot on SQLite never loads it (1.9 MB resident, issue 13's memory target)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def sync_url(url: str) -> str:
    """The same database for synchronous clients (Alembic offline mode, APScheduler's job store)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = "pysqlite" if backend == "sqlite" else "psycopg"
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)
