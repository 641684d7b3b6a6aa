"""Conversations live in the database (bot/pipeline/fsm_storage.py) when there is no Redis: a restart of the bot in
the middle of a draft loses nothing, and people who are not in a conversation cost no writes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event
from sqlmodel import col, select

from bot.base.settings import Settings
from bot.pipeline.fsm_storage import DatabaseStorage, current_session
from bot.pipeline.isolation import ChatLocks, UpdateIsolation
from bot.process.runtime import Runtime, build_runtime
from models import AuditEntry, FsmRecord, Notice
from tests.harness import Harness
from tests.notice_fixtures import seed_village


async def _fsm_rows(runtime: Runtime) -> list[FsmRecord]:
    async with runtime.sessions() as session:
        return list(await session.exec(select(FsmRecord)))


async def test_a_draft_conversation_survives_a_restart(harness: Harness, settings: Settings) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.staff, "/draft")
    await h.tap(cast.staff, "财务类")
    await h.tap(cast.staff, "1. 村级财务收支情况")
    await h.tap(cast.staff, "2026年第一季度")
    assert "标题" in h.last(cast.staff)

    # The process stops; a new one starts on the same database with a new Dispatcher.
    await h.bot.session.close()
    await h.runtime.close()
    runtime = build_runtime(settings, h.runtime.clock)
    restarted = Harness(runtime, h.world)
    try:
        await restarted.say(cast.staff, "重启后继续写的标题")
        assert "正文" in restarted.last(cast.staff)
        await restarted.say(cast.staff, "重启后写的正文。")
        await restarted.tap(cast.staff, "完成")
        assert "重启后继续写的标题" in "\n".join(restarted.texts(cast.staff)[-2:])
        async with runtime.sessions() as session:
            notice = (await session.exec(select(Notice))).one()
        assert (notice.title, notice.item_id, notice.period) == ("重启后继续写的标题", "jyv:cw.1", "2026Q1")
    finally:
        await restarted.bot.session.close()
        await runtime.close()


async def test_people_outside_a_conversation_cost_no_rows(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    for _ in range(3):
        await h.say(cast.resident, "/start")
        await h.say(cast.resident, "/help")
    assert "李大爷" in h.texts(cast.resident)[-2]
    assert await _fsm_rows(h.runtime) == []

    await h.say(cast.staff, "/draft")
    await h.tap(cast.staff, "临时公开")  # an ad hoc notice: the bot now waits for its title
    rows = await _fsm_rows(h.runtime)
    assert [str(cast.staff.id) in row.key for row in rows] == [True]
    await h.say(cast.staff, "/cancel")
    assert await _fsm_rows(h.runtime) == []  # an ended conversation leaves no row behind


@contextmanager
def _statements(runtime: Runtime) -> Iterator[list[str]]:
    """The first word of every statement the runtime's engine sends while the block runs, and "COMMIT" for
    every commit of a transaction (an engine event, whatever the driver then does with it)."""
    seen: list[str] = []
    engine = runtime.engine.sync_engine

    def executing(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    def committing(_connection: Any) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", executing)
    event.listen(engine, "commit", committing)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", executing)
        event.remove(engine, "commit", committing)


async def test_an_update_that_changes_nothing_writes_nothing(harness: Harness) -> None:
    """Issue 13: /start and /help from someone the bot knows, outside a conversation, only read; a drafting
    step writes its notice, its audit row and the conversation state, once, committed before its answer."""
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.say(cast.staff, "/start")
    await h.say(cast.resident, "/start")
    for person, command in ((cast.resident, "/help"), (cast.resident, "/start"), (cast.staff, "/help")):
        with _statements(h.runtime) as sent:
            await h.say(person, command)
        assert sent and not {word for word in sent if word not in ("SELECT", "COMMIT")}, (command, sent)
    assert "李大爷" in h.last(cast.resident)  # the /start screen of someone the bot knows

    await h.say(cast.staff, "/draft")
    await h.tap(cast.staff, "临时公开")  # an ad hoc notice: the bot asks for its title
    with _statements(h.runtime) as sent:
        await h.say(cast.staff, "停车场收费的标题")
    assert "正文" in h.last(cast.staff)
    writes = [word for word in sent if word not in ("SELECT", "COMMIT")]
    # the audit row; the conversation (INSERT .. ON CONFLICT DO UPDATE, a Core statement); the notice
    assert sorted(writes) == ["INSERT", "INSERT", "UPDATE"]
    first_write = sent.index(writes[0])
    assert sent[first_write:first_write + 4] == [*writes, "COMMIT"]  # written together, committed before the answer

    async with h.runtime.sessions() as session:  # a fresh session: what the database holds
        records = list(await session.exec(select(FsmRecord).where(col(FsmRecord.key).contains(str(cast.staff.id)))))
        notice = (await session.exec(select(Notice))).one()
        edits = list(await session.exec(select(AuditEntry).where(AuditEntry.action == "edit")))
    assert [record.state for record in records] == ["Drafting:body"]
    assert records[0].data["notice_id"] == notice.id
    assert notice.title == "停车场收费的标题"
    assert [(edit.notice_id, edit.person_id) for edit in edits] == [(notice.id, notice.author_id)]


async def test_a_state_change_and_the_handlers_rows_commit_or_roll_back_together(harness: Harness) -> None:
    """The conversation is written with a Core statement at the commit, apart from the ORM's rows: when the
    commit fails, neither the title nor the move to the body is kept, and the title typed again works."""
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.staff, "/draft")
    await h.tap(cast.staff, "临时公开")  # an ad hoc notice: the bot asks for its title
    engine = h.runtime.engine.sync_engine

    def failing(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("UPDATE notice"):
            raise RuntimeError("the disk is full")

    event.listen(engine, "before_cursor_execute", failing)
    try:
        await h.say(cast.staff, "会丢失的标题")
    finally:
        event.remove(engine, "before_cursor_execute", failing)
    assert "出了点问题" in h.last(cast.staff)  # err.internal
    rows = await _fsm_rows(h.runtime)
    assert [row.state for row in rows] == ["Drafting:title"]
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(Notice))).one().title != "会丢失的标题"

    await h.say(cast.staff, "再写一次的标题")
    assert "正文" in h.last(cast.staff)
    assert [row.state for row in await _fsm_rows(h.runtime)] == ["Drafting:body"]


async def test_any_commit_of_the_update_writes_the_state_held_back(runtime: Runtime) -> None:
    """The change is written by the session's before_commit listener, so a service committing the update's
    session itself does not commit its rows without the conversation's; a later rollback loses only what
    came after that commit. Outside an update the storage commits on its own, and an ended conversation
    leaves no row."""
    storage, key = DatabaseStorage(runtime.sessions), StorageKey(bot_id=1, chat_id=2, user_id=3)
    async with runtime.sessions() as session:
        token = current_session.set(session)
        try:
            await storage.set_state(key, "Drafting:title")
            await storage.set_data(key, {"notice_id": 7})
            await session.commit()
            await storage.set_state(key, "Drafting:body")
            assert await storage.get_state(key) == "Drafting:body"
            await session.rollback()
            assert await storage.get_state(key) == "Drafting:title"  # read again
        finally:
            current_session.reset(token)
    assert [(row.state, row.data) for row in await _fsm_rows(runtime)] == [("Drafting:title", {"notice_id": 7})]
    assert await storage.get_data(key) == {"notice_id": 7}
    await storage.set_state(key, None)
    assert [(row.state, row.data) for row in await _fsm_rows(runtime)] == [(None, {"notice_id": 7})]
    await storage.set_data(key, {})
    assert await _fsm_rows(runtime) == []


async def test_the_next_update_of_a_chat_waits_for_the_previous_commit(harness: Harness) -> None:
    """Telegram hands over a tap and the text typed right after it together; polling handles them at once.
    The text must find the state the tap left (committed), or the title would be taken for something else."""
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.staff, "/draft")
    message, data = h.find_button(h.world.private_chat(cast.staff), "临时公开")
    h.world.user_taps(cast.staff, h.world.private_chat(cast.staff), message.message_id, data)
    h.world.user_sends(cast.staff, h.world.private_chat(cast.staff), "同时到达的标题")
    tap, text = h.world.take_updates()
    await asyncio.gather(h.feed(tap), h.feed(text))
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert notice.title == "同时到达的标题"
    assert "正文" in h.last(cast.staff)
    assert len(_locks(h)) == 0  # nobody holds or awaits a lock any more: none is kept


def _locks(h: Harness) -> ChatLocks:
    isolation = next(m for m in h.dispatcher.update.outer_middleware if isinstance(m, UpdateIsolation)).isolation
    assert isinstance(isolation, ChatLocks)
    return isolation


async def test_chat_locks_serialise_one_key_and_forget_it() -> None:
    locks, order = ChatLocks(), []
    key = StorageKey(bot_id=1, chat_id=2, user_id=3)

    async def work(name: str) -> None:
        async with locks.lock(key):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(work("a"), work("b"), work("c"))
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    assert len(locks) == 0
