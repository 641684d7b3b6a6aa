"""The real APScheduler (AsyncIOScheduler, the job store in the test database) on a controllable clock:
the daily scan fires at the configured local hour and its nags reach people through the outbox and the
real Dispatcher; a restart after days of downtime runs each missed job once, the weekly report included.

The clock: APScheduler reads the time with `datetime.now` in two modules (the scheduler's loop and the
executor's misfire check); both are pointed at the test's FakeClock. Everything else is the library's:
triggers, the SQLAlchemy job store, coalescing, misfire grace, the asyncio executor. After moving the clock
the test wakes the scheduler, as its own timer would when that moment came.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta, tzinfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors import base as executor_base
from apscheduler.schedulers import base as scheduler_base
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import select

from bot.base.clock import FakeClock
from models import BoundChat, NagLog, Notice
from reminders import scheduler as sched
from tests.deadlines.test_deadlines import _village
from tests.harness import Harness

WAIT = 20.0  # seconds for a job to run on a loaded machine


def _local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}:00+08:00").astimezone(UTC)


@pytest.fixture
def scheduler_clock(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            now = clock.now()
            return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

    monkeypatch.setattr(scheduler_base, "datetime", ClockDatetime)
    monkeypatch.setattr(executor_base, "datetime", ClockDatetime)
    return clock


class Runs:
    """Job events as they happen, and a way to wait for the next ones."""

    def __init__(self) -> None:
        self.events: list[tuple[int, str]] = []
        self.changed = asyncio.Event()

    def __call__(self, event: JobEvent) -> None:
        self.events.append((event.code, event.job_id))
        self.changed.set()

    def executed(self, job_id: str) -> int:
        return sum(1 for code, job in self.events if code == EVENT_JOB_EXECUTED and job == job_id)

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not done():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.sleep(0.3)  # and nothing more follows


@pytest.fixture
async def started(harness: Harness, scheduler_clock: FakeClock) -> AsyncIterator[list[AsyncIOScheduler]]:
    running: list[AsyncIOScheduler] = []
    yield running
    for scheduler in running:
        sched.stop(scheduler)


def _start(h: Harness, runs: Runs, running: list[AsyncIOScheduler], name: str) -> AsyncIOScheduler:
    scheduler = sched.start(h.runtime, name)
    scheduler.add_listener(runs, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    running.append(scheduler)
    return scheduler


async def _move(scheduler: AsyncIOScheduler, clock: FakeClock, when: datetime) -> None:
    clock.set(when)
    scheduler.wakeup()
    await asyncio.sleep(0)


async def test_the_scan_fires_at_the_local_scan_hour_and_nags_reach_staff(
        harness: Harness, scheduler_clock: FakeClock, started: list[AsyncIOScheduler]) -> None:
    h, clock, runs = harness, scheduler_clock, Runs()
    _, users = await _village(h)
    staff = users["staff"]
    clock.set(_local("2026-04-03", 7, 30))
    scheduler = _start(h, runs, started, "sched-hour")
    assert scheduler.get_job(sched.HOURLY).next_run_time == _local("2026-04-03", 8, 1)
    await _move(scheduler, clock, _local("2026-04-03", 8, 1) + timedelta(seconds=20))
    await runs.until(lambda: runs.executed(sched.HOURLY) == 1)
    await h.worker.run_until_idle()
    assert len(h.texts(staff)) == 1  # 08:01 local: before SCAN_HOUR (9), nothing is said
    await _move(scheduler, clock, _local("2026-04-03", 9, 1) + timedelta(seconds=20))
    await runs.until(lambda: runs.executed(sched.HOURLY) == 2)
    await h.worker.run_until_idle()
    assert "公开提醒" in h.last(staff) and "还有 7 天到期" in h.last(staff)
    await h.tap(staff, "起草")  # the nag's button, through the real Dispatcher
    assert "标题" in h.last(staff)
    async with h.runtime.sessions() as session:
        draft = (await session.exec(select(Notice))).one()
    assert draft.period == "2026Q1" and draft.state == "draft"


async def test_a_restart_after_days_of_downtime_catches_up_once(
        harness: Harness, scheduler_clock: FakeClock, started: list[AsyncIOScheduler]) -> None:
    h, clock, runs = harness, scheduler_clock, Runs()
    village, users = await _village(h)
    filing = h.world.new_group("红旗镇备案群", members=[users["inspector"]])
    h.world.add_bot_to_group(filing, admin=True)
    async with h.runtime.sessions() as session:
        session.add(BoundChat(chat_id=filing.id, title=filing.title or "", purpose="filing",
                              township_id=village.township_id))
        await session.commit()
    clock.set(_local("2026-04-03", 9, 30))
    first = _start(h, runs, started, "sched-before")
    await asyncio.sleep(0.2)  # it looks for due jobs (none before 10:01) and goes to sleep
    sched.stop(first)  # the bot goes down at 09:30 on Friday 3 April ...
    clock.set(_local("2026-04-09", 10, 10))  # ... and comes back on Thursday 9 April, 10:10
    # missed meanwhile: 144 hourly scans, the weekly report of Monday 6 April (09:30 local), 3 days late, and
    # six runs of the daily nag history job
    _start(h, runs, started, "sched-after")
    await runs.until(lambda: runs.executed(sched.HOURLY) == 1 and runs.executed(sched.WEEKLY) == 1
                     and runs.executed(sched.NAG_HISTORY) == 1)
    await h.worker.run_until_idle()
    assert sorted(runs.events) == sorted([(EVENT_JOB_EXECUTED, sched.HOURLY), (EVENT_JOB_EXECUTED, sched.WEEKLY),
                                          (EVENT_JOB_EXECUTED, sched.NAG_HISTORY)])
    reminders = [t for t in h.texts(users["staff"]) if "公开提醒" in t]
    assert len(reminders) == 1 and "还有 1 天到期" in reminders[0]  # today's T-1, once; no backlog of days
    photos = [r for r in h.world.requests_for("sendPhoto") if r.ok]
    assert len(photos) == 1  # the missed weekly report, once
    async with h.runtime.sessions() as session:
        days = {row.day for row in await session.exec(select(NagLog))}
    assert days == {date(2026, 4, 9)}
