"""aiosqlite with one hop to its thread per statement instead of four.

aiosqlite runs SQLite in a thread of its own; each call crosses to it and back (a queue, a future, the GIL
handed over twice). SQLAlchemy's adapter makes four crossings for every statement (open a cursor, execute,
fetch, close), and on a busy machine those crossings, not SQLite (an indexed read is ~4 µs), were most of an
update's time. `OneHopCursor` does the four steps in one function run in that thread. The results are
those of SQLAlchemy's own adapter (rows, description, lastrowid, rowcount); server-side cursors are left
to it. And a COMMIT or ROLLBACK with no transaction open in SQLite (Python's sqlite3 opens one before the
first write only) has nothing to do, so it does not cross at all: an update that only read costs one hop.
It uses aiosqlite's `Connection._execute` (queue a function on the thread): if a release drops it, the
plain adapter is used, slower and never wrong (tests/runtime/test_storage.py counts the hops).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)

Result = tuple[Any, list[Any], int | None, int]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> Result:
    """In aiosqlite's thread: what SQLAlchemy's cursor does in four crossings."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation) if parameters is None else cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, [], cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            found = self.await_(self._connection._execute(_run, self._connection._conn, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description, rows, self.lastrowid, self.rowcount = found
        self._rows = deque(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        return AsyncAdapt_aiosqlite_ss_cursor(self) if server_side else OneHopCursor(self)

    def _written(self) -> bool:
        """True when SQLite holds a transaction. Read from the event loop's thread while aiosqlite's thread
        is idle (SQLAlchemy never overlaps calls on one connection); sqlite3 checks no thread for it."""
        return bool(self._connection._conn.in_transaction)

    def commit(self) -> None:
        if self._written():
            super().commit()

    def rollback(self) -> None:
        if self._written():
            super().rollback()


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Pass as `module=` to create_async_engine for an aiosqlite URL (models/db.py does)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*args, **kwargs)
        if type(adapted) is AsyncAdapt_aiosqlite_connection and hasattr(adapted._connection, "_execute"):
            return OneHopConnection(self, adapted._connection)
        return adapted
