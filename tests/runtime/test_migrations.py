"""The Alembic migrations build exactly the schema the SQLModel tables describe, on SQLite and PostgreSQL,
and the whole chain goes down to nothing and up again. Branches that each add a migration meet here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import models  # noqa: F401  (every table registers itself in SQLModel.metadata)
from models.db import sync_url
from models.migrate import alembic_config, upgrade, upgrade_in_child
from tests.conftest import ENGINES
from tests.pg import scratch_database


@pytest.fixture(params=ENGINES)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    async with scratch_database("cunwu_migrations") as url:
        yield url


def _differences(url: str) -> list[object]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), SQLModel.metadata))
    finally:
        engine.dispose()


def _first_published_index(url: str) -> str:
    """How the database itself defines the ranking's index (its PostgreSQL options are the migration's alone:
    the model leaves them out so that a bot on SQLite never loads SQLAlchemy's PostgreSQL dialect)."""
    engine = create_engine(sync_url(url))
    query = ("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_notice_first_published'"
             if engine.dialect.name == "postgresql" else
             "SELECT sql FROM sqlite_master WHERE name = 'ix_notice_first_published'")
    try:
        with engine.connect() as connection:
            return str(connection.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


async def test_head_matches_the_models_and_the_chain_goes_down_and_up(empty_database: str) -> None:
    url = empty_database
    await asyncio.to_thread(upgrade, url)
    assert await asyncio.to_thread(_differences, url) == []
    assert set(SQLModel.metadata.tables) <= await asyncio.to_thread(_tables, url)
    index = await asyncio.to_thread(_first_published_index, url)
    assert "published_at IS NOT NULL" in index and "corrects_id IS NULL" in index, index
    assert ("INCLUDE (state)" in index) == url.startswith("postgresql"), index

    await asyncio.to_thread(command.downgrade, alembic_config(url), "base")
    assert await asyncio.to_thread(_tables, url) <= {"alembic_version"}
    await asyncio.to_thread(upgrade, url)
    assert await asyncio.to_thread(_differences, url) == []


async def test_instances_starting_together_migrate_once() -> None:
    """Several `cunwu webhook` instances start at once and each migrates first (PostgreSQL only: SQLite is
    one machine, one process)."""
    if "postgresql" not in ENGINES:
        pytest.skip("PostgreSQL is not among CUNWU_TEST_DATABASES")
    async with scratch_database("cunwu_migrate_race") as url:
        await asyncio.gather(*(upgrade_in_child(url) for _ in range(3)))  # as `run` and `webhook` do
        assert await asyncio.to_thread(_differences, url) == []
