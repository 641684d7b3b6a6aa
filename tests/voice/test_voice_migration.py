"""Migration 0003 (voice) on SQLite and PostgreSQL: the voice tables match the models, existing replies become
the first entry of each question's history, existing signatures learn whether they counted as a resident's,
and the migration goes down and up again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from models import Petition, Question, QuestionEntry, Signature
from models.db import create_engine, session_factory
from models.migrate import alembic_config, upgrade
from services.people import directory
from services.people.roles import Role
from tests.conftest import ENGINES
from tests.pg import scratch_database

VOICE_TABLES = {"question", "question_entry", "petition", "signature", "petition_post", "voice_quota"}
NOW = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)


@pytest.fixture(params=ENGINES)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    async with scratch_database("cunwu_voice_migration") as url:
        yield url


def _downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def _seed(url: str) -> None:
    """A resident and a representative (not a resident) signed; a question was answered once."""
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        village = await directory.create_village(session, "hongqi", "xinglong", "兴隆村", population=20)
        people = [await directory.get_or_create_person(session, 100 + n, f"p{n}", None) for n in range(3)]
        resident, representative, staff = (p.id or 0 for p in people)
        await directory.grant_role(session, resident, Role.RESIDENT, village_id=village.id)
        await directory.grant_role(session, representative, Role.REPRESENTATIVE, village_id=village.id)
        petition = Petition(village_id=village.id or 0, person_id=resident, title="t", request="r", opens_at=NOW)
        session.add(petition)
        await session.flush()
        for person_id in (resident, representative):
            session.add(Signature(petition_id=petition.id or 0, person_id=person_id, resident=True))
        notice_id = await _notice(session, village.id or 0, staff)
        session.add(Question(notice_id=notice_id, village_id=village.id or 0, person_id=resident, text="q",
                             due=NOW.date(), state="answered", reply="a", replied_by=staff,
                             replied_at=NOW + timedelta(hours=1)))
        await session.commit()
    await engine.dispose()


async def _notice(session, village_id: int, staff_id: int) -> int:
    from models import Notice

    notice = Notice(village_id=village_id, author_id=staff_id, title="n", body="b")
    session.add(notice)
    await session.flush()
    return notice.id or 0


def _voice_differences(url: str) -> list[object]:
    from sqlalchemy import create_engine as create_sync_engine

    from models.db import sync_url

    engine = create_sync_engine(sync_url(url))
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    finally:
        engine.dispose()
    return [d for d in diff if _table_of(d) in VOICE_TABLES]


def _table_of(difference: object) -> str:
    """The table an autogenerate difference is about (modify_* differences come as a list of tuples)."""
    kind, *rest = difference[0] if isinstance(difference, list) else difference  # type: ignore[misc]
    if kind in ("add_table", "remove_table"):
        return str(rest[0].name)
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return str(rest[0].table.name)
    if kind in ("add_fk", "remove_fk"):
        return str(rest[0].parent.name)
    return str(rest[1])  # add_column, remove_column, modify_*: (schema, table, ...)


async def test_migration_backfills_and_goes_down_and_up(empty_database: str) -> None:
    url = empty_database
    await asyncio.to_thread(upgrade, url)
    assert await asyncio.to_thread(_voice_differences, url) == []
    await _seed(url)
    await asyncio.to_thread(_downgrade, url, "0002")
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        signatures = list(await session.exec(select(Signature).order_by(Signature.id)))  # type: ignore[arg-type]
        [entry] = list(await session.exec(select(QuestionEntry)))
    await engine.dispose()
    assert [s.resident for s in signatures] == [True, False]  # only the one holding a resident role
    assert (entry.kind, entry.text, entry.created_at) == ("reply", "a", NOW + timedelta(hours=1))
