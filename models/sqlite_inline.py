"""aiosqlite's adapter with SQLite called on the event loop's own thread, and its busy wait made asynchronous.

aiosqlite runs SQLite in a thread of its own and every call crosses to it and back (a queue, a future, the
loop woken, the GIL handed over twice: ~50-90 µs of wall time on the 2-CPU machine). An indexed read costs
SQLite ~4 µs, so those crossings, not SQLite, were a large part of an update's time (issue 13: the dispatch
mix went from 0.17 to 0.24 of bare aiogram when they went). Here SQLAlchemy's cursor calls Python's sqlite3
directly (it already runs synchronously, in SQLAlchemy's greenlet on the loop's thread), so a statement is
one function call, and a COMMIT or ROLLBACK with no transaction open in SQLite is none at all.

What makes that safe is that the loop never waits inside SQLite:
- Readers never wait in WAL mode. A writer waits for another connection's write transaction, and SQLite's own
  busy handler would sleep on the loop's thread; if the transaction it waits for belongs to a coroutine of
  the same loop (another update, the delivery worker, a second instance in the same process), that
  coroutine can never commit and both wait out the timeout. So each connection's SQLite busy timeout is 0:
  SQLITE_BUSY comes back at once, and the statement is retried after `asyncio.sleep` (1 ms growing to
  100 ms, as SQLite's own handler sleeps) until `busy_timeout` seconds have passed, the loop running
  meanwhile; then it fails with SQLite's own "database is locked". SQLITE_BUSY_SNAPSHOT (a read transaction
  that cannot become a write one) is not retried: waiting cannot help it, and SQLite's handler does not.
- Long work is sent to aiosqlite's thread as before, one crossing per statement: inside `off_the_loop()`
  (the scheduled jobs: the daily scan of thousands of villages must not stop updates for a second; the web
  pages, web/app.py: the console's county view or an export must not either), and for server-side
  cursors, which are left to SQLAlchemy's adapter.
What does stay on the loop is SQLite's own work for each statement, including the WAL checkpoint that SQLite
runs in the commit that takes the log past 1,000 pages: ~5 ms on the development machine's disk, once every
few hundred updates (a slow SD card would make it longer).
The connection is shared by the two threads, never at the same time (SQLAlchemy awaits each call on a
connection before the next), hence `check_same_thread=False`. It uses aiosqlite's `Connection._conn` and
`_execute`; tests/runtime/test_storage.py pins both behaviours.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

Result = tuple[Any, list[Any], int | None, int]
SQLITE_BUSY_SNAPSHOT = 517  # extended result code: BUSY | (2 << 8)
_BUSY_DELAYS = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05)  # then 0.1 s
_offloaded: ContextVar[bool] = ContextVar("cunwu_sqlite_off_the_loop", default=False)


@contextmanager
def off_the_loop() -> Iterator[None]:
    """Statements of the current task run in aiosqlite's thread: for work long enough to hold up updates."""
    token = _offloaded.set(True)
    try:
        yield
    finally:
        _offloaded.reset(token)


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> Result:
    """One statement, with what SQLAlchemy's cursor keeps of it (rows, description, lastrowid, rowcount)."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation) if parameters is None else cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, rows: Any) -> Result:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, rows)
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


def _busy(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return (isinstance(error, sqlite3.OperationalError) and code is not None and code & 0xFF == sqlite3.SQLITE_BUSY
            and code != SQLITE_BUSY_SNAPSHOT)


def _delays() -> Iterator[float]:
    yield from _BUSY_DELAYS
    while True:
        yield 0.1


class InlineCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._keep(_run, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._keep(_run_many, operation, seq_of_parameters)

    def _keep(self, run: Callable[..., Result], operation: Any, parameters: Any) -> None:
        adapted: InlineConnection = self._adapt_connection  # type: ignore[assignment]
        try:
            found = adapted.call(run, adapted._connection._conn, operation, parameters)
        except Exception as error:
            adapted._handle_exception(error)
        self.description, rows, self.lastrowid, self.rowcount = found
        self._rows = deque(rows)


class InlineConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    dbapi: InlineDBAPI

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return AsyncAdapt_aiosqlite_ss_cursor(self) if server_side else InlineCursor(self)

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` on this connection's sqlite3 object, from SQLAlchemy's greenlet. Through `await_`
        even when nothing is awaited: SQLAlchemy's AsyncConnection.execute insists that its driver awaited."""
        return self.await_(self._call(function, args))

    async def _call(self, function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Here, or in aiosqlite's thread inside `off_the_loop()`; while another connection holds the write
        lock, tried again after sleeps that let the loop run, for up to `busy_timeout` seconds."""
        offloaded, deadline = _offloaded.get(), 0.0
        for delay in _delays():
            try:
                if offloaded:
                    return await self._connection._execute(function, *args)
                return function(*args)
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
                deadline = deadline or time.monotonic() + self.dbapi.busy_timeout
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _written(self) -> bool:
        """True when SQLite holds a transaction (Python's sqlite3 opens one before the first write only)."""
        return bool(self._connection._conn.in_transaction)

    def commit(self) -> None:
        self._end(self._connection._conn.commit)

    def rollback(self) -> None:
        self._end(self._connection._conn.rollback)

    def _end(self, finish: Callable[[], None]) -> None:
        """COMMIT or ROLLBACK: nothing to do, and no call, when SQLite holds no transaction."""
        if self._written():
            try:
                self.call(finish)
            except Exception as error:
                self._handle_exception(error)


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Pass as `module=` to create_async_engine for an aiosqlite URL (models/db.py does). `busy_timeout`:
    seconds a write waits for another connection's write transaction; SQLite's own is 0."""

    def __init__(self, busy_timeout: float) -> None:
        super().__init__(aiosqlite, sqlite3)
        self.busy_timeout = busy_timeout

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiosqlite_connection:
        kwargs["check_same_thread"] = False
        kwargs["timeout"] = 0
        adapted = super().connect(*args, **kwargs)
        return InlineConnection(self, adapted._connection)
