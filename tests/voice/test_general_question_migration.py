"""Migration 0018 on SQLite and PostgreSQL: a question may be about no notice (a general question); the head
matches the models, questions about notices keep their notice, and down then up again works (a general
question cannot live in the older schema, so going down drops it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlmodel import select

from models import Notice, Question, QuestionEntry
from models.db import create_engine, session_factory
from models.migrate import alembic_config, upgrade
from services.people import directory
from services.people.roles import Role
from tests.conftest import ENGINES
from tests.pg import scratch_database
from tests.voice.test_voice_migration import _voice_differences

NOW = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)


@pytest.fixture(params=ENGINES)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    async with scratch_database("cunwu_general_question") as url:
        yield url


async def _ask(url: str, *, about_notice: bool) -> None:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        village = await directory.village_by_code(session, "xinglong") if not about_notice else None
        if village is None:
            village = await directory.create_village(session, "hongqi", "xinglong", "兴隆村", population=20)
        resident = await directory.get_or_create_person(session, 100, "p", None)
        await directory.grant_role(session, resident.id or 0, Role.RESIDENT, village_id=village.id)
        notice_id = None
        if about_notice:
            notice = Notice(village_id=village.id or 0, author_id=resident.id or 0, title="n", body="b")
            session.add(notice)
            await session.flush()
            notice_id = notice.id
        question = Question(notice_id=notice_id, village_id=village.id or 0, person_id=resident.id or 0,
                            text="about notice" if about_notice else "general", due=NOW.date())
        session.add(question)
        await session.flush()  # answered: its history points at the question (the table SQLite rebuilds)
        session.add(QuestionEntry(question_id=question.id or 0, kind="reply", text="a", person_id=resident.id or 0,
                                  created_at=NOW))
        await session.commit()
    await engine.dispose()


async def _questions(url: str) -> list[tuple[str, bool]]:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        rows = list(await session.exec(select(Question).order_by(Question.id)))  # type: ignore[arg-type]
    await engine.dispose()
    return [(q.text, q.notice_id is not None) for q in rows]


async def _entries(url: str) -> int:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        rows = list(await session.exec(select(QuestionEntry)))
    await engine.dispose()
    return len(rows)


async def test_a_question_may_have_no_notice_and_the_migration_goes_down_and_up(empty_database: str) -> None:
    url = empty_database
    await asyncio.to_thread(upgrade, url, "0017")
    await _ask(url, about_notice=True)  # asked before 0018: about a notice, as every question then was
    await asyncio.to_thread(upgrade, url)
    assert await asyncio.to_thread(_voice_differences, url) == []
    await _ask(url, about_notice=False)
    assert await _questions(url) == [("about notice", True), ("general", False)]
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0017")
    assert await _questions(url) == [("about notice", True)]
    assert await _entries(url) == 1  # the general question's history went with it
    await asyncio.to_thread(upgrade, url)
    assert await asyncio.to_thread(_voice_differences, url) == []
