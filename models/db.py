"""Engine and session factory: SQLite (WAL, busy timeout) by default, PostgreSQL at scale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Select, bindparam, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session as AlchemySession
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from models.sqlite_inline import InlineConnection, InlineDBAPI

SQLITE_BUSY_TIMEOUT_MS = 15000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_folder(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer commits; a busy timeout makes writers wait instead of failing:
    # SQLite's own, or for SQLite called on the event loop's thread, InlineDBAPI's asynchronous one.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    if not isinstance(dbapi_connection, InlineConnection):
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if is_sqlite(url):
        _ensure_sqlite_folder(url)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        # Sessions and `engine.connect()` blocks end their transaction themselves (commit, or rollback on
        # close), so the pool's extra rollback at check-in would only be one more call.
        kwargs.setdefault("pool_reset_on_return", None)
        # SQLite called on the event loop's thread, its busy wait asynchronous (models/sqlite_inline.py): on the
        # 2-CPU machine the dispatch mix went from 0.17 to 0.24 of bare aiogram (docs/benchmarks.md, 2026-12-05).
        # The `timeout` above is then replaced by InlineDBAPI's own. The scheduled jobs still run
        # their statements in aiosqlite's thread (reminders/scheduler.py, `off_the_loop`).
        if make_url(url).get_driver_name() == "aiosqlite":
            kwargs.setdefault("module", InlineDBAPI(SQLITE_BUSY_TIMEOUT_MS / 1000))
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


class KeyedGetSession(Session):
    """`get` by a one-column primary key through a statement built once per table.

    SQLAlchemy's own `get` builds its SELECT anew on every call that misses the identity map (cloning the
    table's primary-key clause and working out its cache key: about 130 us of the 330 us a get of a notice
    costs on the 2-CPU machine), and a get is how most handlers load the row a button names. This one runs
    `SELECT ... WHERE pk = :pk`, built once per table, which loads the same object the same way (autoflush
    included). Everything else goes to SQLAlchemy's `get` unchanged: an object already in the identity map
    (expired, or deleted in this session), options, locks, composite keys."""

    _by_key: ClassVar[dict[Any, Select[Any] | None]] = {}

    def get(self, entity: Any, ident: Any, *, options: Any = None, populate_existing: bool = False,
            with_for_update: Any = None, identity_token: Any = None, execution_options: Any = None,
            bind_arguments: Any = None) -> Any:
        plain = not (options or populate_existing or with_for_update or identity_token or execution_options
                     or bind_arguments)
        statement = self._statement(entity) if plain and type(ident) is int else None
        if statement is None or self.identity_key(entity, ident) in self.identity_map:
            return super().get(entity, ident, options=options, populate_existing=populate_existing,
                               with_for_update=with_for_update, identity_token=identity_token,
                               execution_options=execution_options or {}, bind_arguments=bind_arguments)
        # SQLAlchemy's execute: sqlmodel's warns that `exec` is preferred, which would return rows, not objects
        return AlchemySession.execute(self, statement, {"pk": ident}).scalars().first()

    @classmethod
    def _statement(cls, entity: Any) -> Select[Any] | None:
        if entity not in cls._by_key:
            mapper = inspect(entity, raiseerr=False)
            keys: tuple[Any, ...] = tuple(mapper.primary_key) if getattr(mapper, "is_mapper", False) else ()
            cls._by_key[entity] = select(entity).where(keys[0] == bindparam("pk")) if len(keys) == 1 else None
        return cls._by_key[entity]


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False,
                              sync_session_class=KeyedGetSession)


def sync_url(url: str) -> str:
    """The same database for synchronous clients (Alembic offline mode, APScheduler's job store)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = "pysqlite" if backend == "sqlite" else "psycopg"
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)
