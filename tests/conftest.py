"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

CUNWU_TEST_DATABASES chooses the engines ("sqlite,postgresql" by default; CI runs both).
SQLite: the schema is migrated once into a template file, copied for each test.
PostgreSQL: a database of this run's own (tests/pg.py) is migrated once, and each test starts from truncated
tables; the database is dropped when the run ends.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.base.clock import FakeClock
from bot.base.settings import Settings
from bot.process.runtime import Runtime, build_runtime
from fake_telegram import FakeTelegram
from models.migrate import upgrade
from tests.harness import Harness
from tests.pg import create_database, drop_database

TEST_TOKEN = "4242424242:TEST-token-that-is-long-enough-to-look-real"
ENGINES = [e.strip() for e in os.environ.get("CUNWU_TEST_DATABASES", "sqlite,postgresql").split(",") if e.strip()]
ADMIN_ID = 9000001


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cunwu.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    url = asyncio.run(create_database("cunwu_test"))
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(drop_database(url))


async def _truncate_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        rows = await connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"))
        tables = ", ".join(f'"{row[0]}"' for row in rows)
        if tables:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "cunwu.db"
        shutil.copy(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    url: str = request.getfixturevalue("postgres_schema")
    asyncio.run(_truncate_postgres(url))
    yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(_env_file=None, bot_token=TEST_TOKEN, database_url=database_url,
                    admin_ids=[ADMIN_ID], redis_url=None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 4, 3, 2, 0, tzinfo=UTC))  # 10:00 in Asia/Shanghai


@pytest.fixture
async def runtime(settings: Settings, clock: FakeClock) -> AsyncIterator[Runtime]:
    rt = build_runtime(settings, clock)
    yield rt
    await rt.close()


@pytest.fixture
def world() -> FakeTelegram:
    return FakeTelegram(TEST_TOKEN, bot_id=int(TEST_TOKEN.split(":")[0]))


@pytest.fixture
async def harness(runtime: Runtime, world: FakeTelegram) -> AsyncIterator[Harness]:
    h = Harness(runtime, world)
    yield h
    await h.bot.session.close()


# The longest tests start first, so that under xdist no worker is handed a minute-long test when the others are
# nearly done (the browser tests are one group on one worker). Order only; every test stays independent.
LONGEST_FIRST = (
    "tests/browser/",
    "tests/e2e/",
    "tests/runtime/test_lazy_aiogram.py",
    "tests/runtime/test_command_imports.py",
    "tests/runtime/test_delivery_bot.py",
    "tests/runtime/test_splitting.py",
    "tests/runtime/test_migrations.py",
    "tests/test_layout.py",
    "tests/notices/test_archive_bot.py",
    "tests/deadlines/test_deadlines_cli.py",
)


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::")[0]
    return next((rank for rank, prefix in enumerate(LONGEST_FIRST) if path.startswith(prefix)), len(LONGEST_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)
