"""Conversations live in the database (bot/fsm_storage.py) when there is no Redis: a restart of the bot in
the middle of a draft loses nothing, and people who are not in a conversation cost no writes."""

from __future__ import annotations

from sqlmodel import select

from bot.runtime import Runtime, build_runtime
from bot.settings import Settings
from models import FsmRecord, Notice
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
    await h.tap(cast.staff, "2026Q1")
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
