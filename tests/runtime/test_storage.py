"""SQLite as the bot opens it: WAL (readers work while one writer commits), foreign keys enforced, on every
connection of the pool; statements called on the event loop's thread, and a writer that meets another
connection's write transaction waiting without stopping the loop (models/sqlite_inline.py); the scheduled jobs'
and the web pages' statements sent to aiosqlite's thread instead. And the sessions' `get` by id, which reuses one
statement per table, answering as SQLAlchemy's own."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.base.settings import Settings
from bot.process.runtime import Runtime, build_runtime
from models import Person
from models.db import SQLITE_BUSY_TIMEOUT_MS, KeyedGetSession, create_engine
from models.sqlite_inline import InlineDBAPI, off_the_loop
from reminders import scheduler
from tests.conftest import TEST_TOKEN
from tests.harness import Harness
from tests.notice_fixtures import seed_village
from tests.web.helpers import board_client, get


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
        dbapi = runtime.engine.dialect.dbapi
    finally:
        await runtime.close()
    # SQLite's own busy wait would sleep on the loop's thread: it is 0, and the adapter waits instead
    assert results == [("wal", 0, 1)] * 2
    assert isinstance(dbapi, InlineDBAPI) and dbapi.busy_timeout == SQLITE_BUSY_TIMEOUT_MS / 1000 >= 5


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'cunwu.db'}", module=InlineDBAPI(busy_timeout=1.5))
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def crossings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The calls sent to aiosqlite's thread from now on."""
    sent: list[str] = []
    queue = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", "?"))
        return await queue(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_statements_run_on_the_loops_thread_and_scheduled_jobs_in_aiosqlites(
        engine: AsyncEngine, crossings: list[str]) -> None:
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
        await connection.execute(text("INSERT INTO t VALUES (1)"))
        await connection.commit()
    assert crossings == []
    with off_the_loop():
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM t"))).all() == [(1,)]
            await connection.commit()  # nothing written: nothing to cross for
            assert len(crossings) == 1
            await connection.execute(text("INSERT INTO t VALUES (2)"))
            await connection.commit()
    assert len(crossings) == 3  # the INSERT and its COMMIT
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t ORDER BY x"))).all() == [(1,), (2,)]
    assert len(crossings) == 3


async def test_a_scheduled_job_runs_its_statements_off_the_loop(
        settings: Settings, crossings: list[str]) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("aiosqlite's thread is SQLite's")
    runtime = build_runtime(settings)
    name = scheduler.register(runtime, "test-off-the-loop")
    try:
        await scheduler.prune_updates(name)
        assert crossings and "_run" in crossings
        crossings.clear()
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        assert crossings == []
    finally:
        scheduler.RUNTIMES.pop(name, None)
        await runtime.close()


async def test_a_pages_statements_run_off_the_loop_and_an_updates_on_it(
        harness: Harness, crossings: list[str]) -> None:
    if not harness.runtime.settings.database_url.startswith("sqlite"):
        pytest.skip("aiosqlite's thread is SQLite's")
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    crossings.clear()
    async with board_client(harness) as (client, _):
        board = await get(client, "/v/xinglong")
    assert board.status == 200 and "兴隆村" in board.text
    assert "_run" in crossings  # the board's reads went to aiosqlite's thread (web/app.py)
    crossings.clear()
    await harness.say(cast.resident, "/help")
    assert harness.last(cast.resident).startswith("可用命令")  # answered
    assert crossings == []  # an update's statements stay on the loop


async def _ticking(ticks: list[int]) -> None:
    while True:
        ticks.append(1)
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("offloaded", [False, True])
async def test_a_writer_meeting_another_write_transaction_waits_while_the_loop_runs(
        engine: AsyncEngine, offloaded: bool) -> None:
    ticks: list[int] = []
    ticker = asyncio.create_task(_ticking(ticks))
    try:
        async with engine.connect() as holder, engine.connect() as writer:
            await holder.execute(text("INSERT INTO t VALUES (1)"))  # holds SQLite's write lock until it commits

            async def write() -> None:
                with off_the_loop() if offloaded else nullcontext():
                    await writer.execute(text("INSERT INTO t VALUES (2)"))
                    await writer.commit()

            waiting = asyncio.create_task(write())
            await asyncio.sleep(0.3)
            assert not waiting.done()
            during = len(ticks)
            await holder.commit()
            await asyncio.wait_for(waiting, 1)
    finally:
        ticker.cancel()
    assert during >= 20  # the loop went on: ~60 ticks of 5 ms in 0.3 s, none if SQLite had slept on it
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t ORDER BY x"))).all() == [(1,), (2,)]


async def test_a_writer_gives_up_after_the_busy_timeout_with_sqlites_own_error(engine: AsyncEngine) -> None:
    async with engine.connect() as holder, engine.connect() as writer:
        await holder.execute(text("INSERT INTO t VALUES (1)"))
        started = asyncio.get_running_loop().time()
        with pytest.raises(OperationalError) as raised:
            await writer.execute(text("INSERT INTO t VALUES (2)"))
        waited = asyncio.get_running_loop().time() - started
        await writer.rollback()
        await holder.commit()
    assert isinstance(raised.value.orig, sqlite3.OperationalError)
    assert "database is locked" in str(raised.value)
    assert 1.5 <= waited < 3
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t"))).all() == [(1,)]


async def _gets(sessions: Callable[[], AsyncSession]) -> list[Any]:
    """What `session.get` answers in each case: a row, a missing row, the same row twice, a row changed by
    another transaction after it was loaded (held, then expired, then with populate_existing), a key given as a
    tuple, a row deleted in the session and one added and not yet flushed."""
    async with sessions() as session:
        session.add_all([Person(id=501, tg_user_id=9501, name="甲"), Person(id=502, tg_user_id=9502, name="乙")])
        await session.commit()
    answers: list[Any] = []
    async with sessions() as session:
        first = await session.get(Person, 501)
        answers += [first and first.name, await session.get(Person, 999), await session.get(Person, 501) is first]
        await session.commit()  # objects stay loaded (expire_on_commit=False); the next read sees later commits
        async with sessions() as elsewhere:
            await elsewhere.exec(update(Person).where(col(Person.id) == 501).values(name="甲改"))
            await elsewhere.commit()
        answers.append((await session.get(Person, 501)).name)  # type: ignore[union-attr]
        session.expire(first)
        answers.append((await session.get(Person, 501)).name)  # type: ignore[union-attr]
        answers.append((await session.get(Person, (502,), populate_existing=True)).name)  # type: ignore[union-attr]
        assert first is not None
        await session.delete(first)
        await session.flush()
        answers.append(await session.get(Person, 501))
        pending = Person(id=503, tg_user_id=9503, name="丙")
        session.add(pending)
        answers.append(await session.get(Person, 503) is pending)  # flushed first, as before a query
        await session.rollback()
    async with sessions() as session:
        await session.exec(delete(Person).where(col(Person.id).in_([501, 502, 503])))
        await session.commit()
    return answers


async def test_a_get_by_id_answers_as_sqlalchemys_own_get(runtime: Runtime) -> None:
    """The sessions' get by a one-column key (models/db.py, a statement built once) against SQLAlchemy's."""
    plain = async_sessionmaker(runtime.engine, class_=AsyncSession, expire_on_commit=False)
    assert isinstance(runtime.sessions().sync_session, KeyedGetSession)
    ours = await _gets(runtime.sessions)
    assert ours == await _gets(plain)
    assert ours == ["甲", None, True, "甲", "甲改", "乙", None, True]
