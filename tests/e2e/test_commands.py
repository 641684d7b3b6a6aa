"""`cunwu migrate` and `cunwu demo --lang en` as an operator runs them: the real command in a subprocess."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from models.db import create_engine
from models.migrate import alembic_config
from tests.conftest import ENGINES
from tests.e2e.test_real_process import START_TIMEOUT, _env
from tests.pg import scratch_database

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


async def _cunwu(folder: Path, env: dict[str, str], *args: str, limit: float = START_TIMEOUT) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli.main", *args, cwd=folder, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), limit)
    except TimeoutError:
        process.kill()
        raise
    return process.returncode or 0, out.decode(), err.decode()


@pytest.fixture(params=ENGINES)
async def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'cunwu.db'}"
        return
    async with scratch_database("cunwu_migrate") as url:
        yield url


async def _tables_and_head(url: str) -> tuple[set[str], str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            head = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
            names = await connection.run_sync(lambda sync: set(sync.dialect.get_table_names(sync)))
    finally:
        await engine.dispose()
    return names, head


async def test_migrate_creates_the_schema_and_is_idempotent(tmp_path: Path, fresh_database: str) -> None:
    env = _env(DATABASE_URL=fresh_database)  # no token: migrating does not need one
    for _ in range(2):
        code, out, err = await _cunwu(tmp_path, env, "migrate")
        assert (code, out.strip(), err.strip()) == (0, "database is at the newest schema", "")
    tables, head = await _tables_and_head(fresh_database)
    assert {"village", "person", "role_grant", "bound_chat", "invite", "outbox", "notice"} <= tables
    assert head == ScriptDirectory.from_config(alembic_config(fresh_database)).get_current_head()


async def test_demo_in_english_is_english_from_start_to_end(tmp_path: Path) -> None:
    code, out, err = await _cunwu(tmp_path, _env(), "demo", "--lang", "en", limit=180)
    assert code == 0, err[-2000:]
    assert "Chapter 1" in out and "Demo finished" in out
    assert "Xinglong Village Villagers' Committee" in out  # the issuing unit, worded in the village's language
    chinese = [line for line in out.splitlines() if CJK.search(line)]
    assert chinese == []
