"""SQLite as the bot opens it: WAL (readers work while one writer commits), a busy timeout (writers wait
instead of failing), foreign keys enforced; on every connection of the pool, not only the first."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text

from bot.base.settings import Settings
from bot.process.runtime import build_runtime
from models.db import SQLITE_BUSY_TIMEOUT_MS, create_engine
from models.sqlite_hops import OneHopDBAPI
from tests.conftest import TEST_TOKEN


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'cunwu.db'}"
    runtime = build_runtime(Settings(_env_file=None, bot_token=TEST_TOKEN, database_url=url))
    try:
        async def pragmas() -> tuple[str, int, int]:
            async with runtime.engine.connect() as connection:
                mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
                busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
                keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar_one()
                await asyncio.sleep(0.05)  # held open, so the other call needs a second connection
                return mode, busy, keys

        results = await asyncio.gather(pragmas(), pragmas())
    finally:
        await runtime.close()
    assert results == [("wal", SQLITE_BUSY_TIMEOUT_MS, 1)] * 2
    assert SQLITE_BUSY_TIMEOUT_MS >= 5000


async def test_a_statement_crosses_to_aiosqlites_thread_once_and_a_read_only_commit_not_at_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """models/sqlite_hops.py: each crossing costs more than SQLite's own work on a busy machine."""
    crossings: list[str] = []
    queue = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        crossings.append(getattr(fn, "__name__", "?"))
        return await queue(self, fn, *args, **kwargs)

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cunwu.db'}", module=OneHopDBAPI())
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            await connection.commit()
        assert len(crossings) == 1
        async with engine.connect() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
            await connection.commit()
        assert len(crossings) == 3  # the INSERT and its COMMIT
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM t"))).all() == [(1,)]
    finally:
        await engine.dispose()
