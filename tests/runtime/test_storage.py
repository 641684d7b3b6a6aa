"""SQLite as the bot opens it: WAL (readers work while one writer commits), a busy timeout (writers wait
instead of failing), foreign keys enforced; on every connection of the pool, not only the first."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from bot.base.settings import Settings
from bot.process.runtime import build_runtime
from models.db import SQLITE_BUSY_TIMEOUT_MS
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
