"""reminders/loop.py: a job falling due while an update holds SQLite's write lock neither stops the event loop
nor the scheduler. The scheduler is the bot's own (reminders.scheduler.build_scheduler, the job store in the test
database); the update is a session that has written and not yet committed, as a handler between its write and
its reply."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.triggers.interval import IntervalTrigger

from bot.process.runtime import Runtime
from models import ProcessedUpdate
from reminders import scheduler as sched

WAIT = 30.0  # seconds, on a loaded machine
RUNG: list[asyncio.Event] = []


async def ring() -> None:
    """The job: referenced by text, as every job of the persistent store."""
    RUNG[-1].set()


async def test_a_job_due_during_an_open_write_runs_and_is_rescheduled(runtime: Runtime) -> None:
    RUNG.append(asyncio.Event())
    scheduler = sched.build_scheduler(runtime, "loop-test")
    loop, passed = asyncio.get_running_loop(), asyncio.Event()

    def submitted(_event: JobEvent) -> None:  # told at the end of a pass, once the store has the next run time
        loop.call_soon_threadsafe(passed.set)

    scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)
    scheduler.start(paused=True)
    try:
        first = datetime.now(UTC)
        scheduler.add_job("tests.runtime.test_scheduler_loop:ring", IntervalTrigger(hours=1, timezone=UTC),
                          id="ring", next_run_time=first)
        async with runtime.sessions() as session:
            session.add(ProcessedUpdate(update_id=4242))
            await session.flush()  # SQLite's write lock is held until this session commits
            scheduler.resume()  # the job is due: the scheduler looks, runs it, and stores its next run time
            async with asyncio.timeout(WAIT):
                await RUNG[-1].wait()  # the loop ran the job while the store waited for the lock
            await session.commit()
        async with asyncio.timeout(WAIT):
            await passed.wait()
        stored = scheduler.get_job("ring")
        assert stored is not None and (stored.next_run_time - first).total_seconds() >= 3599
    finally:
        sched.stop(scheduler)
