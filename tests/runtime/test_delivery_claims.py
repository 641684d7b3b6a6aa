"""Two delivery workers (two processes' worth: each its own engine, bot and session) share one PostgreSQL
outbox: every row is sent exactly once, and a chat's rows are all sent by one worker (so its order and its
per-chat limit hold). On SQLite there is one process and one worker; the same claim code runs there."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, select

from bot.base.clock import FakeClock
from bot.base.settings import Settings
from bot.delivery.worker import DeliveryWorker
from bot.process.runtime import build_runtime
from bot.process.wiring import build_bot
from models import OutboxMessage
from tests.faults import FaultySession
from tests.harness import UNLIMITED, Harness
from tests.notice_fixtures import seed_village
from tests.runtime.test_delivery_bot import TITLE, approve_and_hold

GROUPS = 60


async def test_two_workers_on_one_postgresql_outbox_send_every_row_once(harness: Harness, settings: Settings,
                                                                        clock: FakeClock) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several workers share an outbox on PostgreSQL only (SQLite: one process, one worker)")
    h = harness
    cast = await seed_village(h.runtime, h.world, groups=GROUPS)
    await h.flush()
    await approve_and_hold(h, cast)
    async with h.runtime.sessions() as session:
        queued = list(await session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")))
    assert len(queued) > GROUPS

    other = build_runtime(settings, clock)  # a second process: its own engine and connections
    sessions = [FaultySession(h.world), FaultySession(h.world)]
    workers = [DeliveryWorker(h.runtime, build_bot(h.runtime, session=sessions[0]), UNLIMITED),
               DeliveryWorker(other, build_bot(other, session=sessions[1]), UNLIMITED)]
    for worker in workers:
        worker.batch = 8  # small claims, so both workers take turns at the outbox
    try:
        await asyncio.gather(*(w.run_until_idle() for w in workers))
        await asyncio.gather(*(w.run_until_idle() for w in workers))  # the progress edits queued last
    finally:
        await other.close()

    for group in [*cast.groups, cast.filing]:
        assert sum(1 for m in h.world.bot_messages(group) if TITLE in m.text) == 1
    groups_of = [{chat for name, chat in s.calls if name == "sendMessage" and chat and chat < 0} for s in sessions]
    assert groups_of[0] and groups_of[1], "both workers took part"
    assert not groups_of[0] & groups_of[1], "a chat's rows all went through one worker"
    async with h.runtime.sessions() as session:
        rows = list(await session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_([r.id for r in queued]))))
    assert {r.status for r in rows} == {"sent"} and all(r.attempts == 1 for r in rows)
