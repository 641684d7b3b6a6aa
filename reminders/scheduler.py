"""APScheduler 3: the hourly scan (nags, the residents' voice, the posting-period unpin sweep, rectification
orders, the townships' inspection cadence) and the weekly township report, in a job store in the bot's own database.

Why a registry of runtimes: jobs in a persistent store are pickled, so a job must be a module-level
function named by its text ("reminders.scheduler:hourly") with picklable arguments. The Runtime (engine,
session factory, clock) cannot be pickled, so a job carries only a name and finds the Runtime here.

A restart after downtime runs each missed job once, not once per missed hour: the jobs are re-added with
explicit ids and replace_existing (so a new release's code and triggers apply) but keep the next run time
the store had, so the missed run is still due when the scheduler resumes; `coalesce=True` folds all the
missed runs into one. The hourly scan's misfire grace is 6 hours (an older missed run is useless: the next
hour's scan does the same); the weekly report has none, so a report missed by days is still sent, once.
The NagLog key makes even a repeated scan send nothing twice. A daily job prunes the nag log to what a scan
can still need (services/deadlines/history.py), in the quiet hours of China (21:00-08:00 local).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.delivery.keeper import keep_postings
from bot.process.runtime import Runtime
from models.db import sync_url
from models.sqlite_inline import off_the_loop
from reminders import voice
from reminders.loop import OffLoopScheduler
from services import update_log
from services.deadlines import history, housekeeping, inspection_due, nags
from services.township import actions as desk

log = logging.getLogger("cunwu.reminders")
RUNTIMES: dict[str, Runtime] = {}
HOURLY, WEEKLY, PRUNE = "cunwu.hourly", "cunwu.weekly_report", "cunwu.prune_updates"
NAG_HISTORY = "cunwu.nag_history"
MISFIRE_GRACE = 6 * 3600  # a job missed by less than this runs once on start; older ones wait for next time


def register(runtime: Runtime, name: str = "main") -> str:
    RUNTIMES[name] = runtime
    return name


def runtime_named(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise RuntimeError(f"no runtime registered as {name!r} (reminders.scheduler.register)") from None


def build_scheduler(runtime: Runtime, name: str = "main") -> AsyncIOScheduler:
    """The scheduler and its job store in the bot's database; `start` adds the jobs."""
    register(runtime, name)
    store = SQLAlchemyJobStore(url=sync_url(runtime.settings.database_url), tablename="apscheduler_jobs")
    return OffLoopScheduler(jobstores={"default": store}, timezone=UTC,
                            job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE,
                                          "max_instances": 1})


JOBS: tuple[tuple[str, str, CronTrigger, int | None], ...] = (
    (HOURLY, "reminders.scheduler:hourly", CronTrigger(minute=1, timezone=UTC), MISFIRE_GRACE),
    (WEEKLY, "reminders.scheduler:weekly_report", CronTrigger(day_of_week="mon", hour=1, minute=30, timezone=UTC),
     None),  # however late: a missed weekly report is sent once on the next start, not dropped
    (NAG_HISTORY, "reminders.scheduler:prune_nags", CronTrigger(hour=17, minute=37, timezone=UTC), None),
)


def start(runtime: Runtime, name: str = "main", *, paused: bool = False) -> AsyncIOScheduler:
    """Open the job store with nothing running, (re)add the jobs keeping their stored next run times, then
    run: whatever fell due while the bot was down runs once."""
    scheduler = build_scheduler(runtime, name)
    scheduler.start(paused=True)
    for job_id, func, trigger, grace in JOBS:
        kept = _stored_next_run(scheduler, job_id)
        scheduler.add_job(func, trigger, args=[name], id=job_id, replace_existing=True, misfire_grace_time=grace,
                          **({"next_run_time": kept} if kept is not None else {}))
    add_update_pruning(scheduler, name)
    if not paused:
        scheduler.resume()
    return scheduler


def add_update_pruning(scheduler: AsyncIOScheduler, name: str) -> None:
    """Hourly, and once as soon as this instance starts leading (so a new leader shows it is alive)."""
    scheduler.add_job("reminders.scheduler:prune_updates", IntervalTrigger(hours=1, timezone=UTC), args=[name],
                      id=PRUNE, replace_existing=True, next_run_time=datetime.now(UTC))


def _stored_next_run(scheduler: AsyncIOScheduler, job_id: str) -> datetime | None:
    try:
        job = scheduler.get_job(job_id)
    except Exception:  # a job pickled by an older release that no longer loads: schedule it afresh
        log.warning("stored job %s could not be loaded; it is scheduled afresh", job_id)
        return None
    return job.next_run_time if job is not None else None


def stop(scheduler: AsyncIOScheduler | None) -> None:
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=False)


# --- the jobs (module-level, referenced by text) ------------------------------------------------------

T = TypeVar("T")


def _job(function: Callable[[str], Awaitable[T]]) -> Callable[[str], Awaitable[T]]:
    """A scheduled job's statements run in aiosqlite's thread, not on the event loop's (models/sqlite_inline.py):
    the daily scan of thousands of villages must not hold up the updates arriving meanwhile."""
    @functools.wraps(function)
    async def job(name: str) -> Any:
        with off_the_loop():
            return await function(name)
    return job


@_job
async def hourly(name: str) -> None:
    runtime = runtime_named(name)
    for step in (scan, voice.hourly, unpin_sweep, keep_posted, rectification_orders, inspection_cadence):
        try:
            await step(runtime)
        except Exception:  # one failing step must not stop the others
            log.exception("hourly step %s failed", step.__name__)
    runtime.wake_delivery()


async def scan(runtime: Runtime) -> nags.ScanResult:
    async with runtime.sessions() as session:
        result = await nags.daily_scan(session, runtime.policy, runtime.clock.now(),
                                       scan_hour=runtime.settings.scan_hour,
                                       language=runtime.settings.default_language)
        await session.commit()
    if result.nags or result.skipped:
        log.info("nag scan: %s nags in %s messages; %s villages planned, %s skipped (bad settings)",
                 result.nags, result.messages, result.planned, result.skipped)
    return result


async def keep_posted(runtime: Runtime) -> None:
    """Notices deleted or unpinned before their posting period ended go back up (bot/delivery/keeper.py)."""
    if runtime.bot is not None:
        await keep_postings(runtime, runtime.bot)


async def rectification_orders(runtime: Runtime) -> int:
    """Open rectification orders: reminders before the deadline, one escalation after it."""
    async with runtime.sessions() as session:
        count = await desk.scan(session, runtime.policy, runtime.clock.now())
        await session.commit()
    return count


async def inspection_cadence(runtime: Runtime) -> int:
    """The townships' own inspections owed by their profile's cadence: reminders, daily nags, one escalation."""
    async with runtime.sessions() as session:
        count = await inspection_due.scan(session, runtime.policy, runtime.clock.now(),
                                          scan_hour=runtime.settings.scan_hour)
        await session.commit()
    return count


async def unpin_sweep(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        count = await housekeeping.unpin_due(session, runtime.policy, runtime.clock.now())
        await session.commit()
    return count


@_job
async def weekly_report(name: str) -> None:
    runtime = runtime_named(name)
    async with runtime.sessions() as session:
        await housekeeping.queue_weekly(session, runtime.policy, runtime.clock.now())
        await session.commit()
    runtime.wake_delivery()


@_job
async def prune_nags(name: str) -> history.Pruned:
    """Daily: the nag log keeps what a scan can still need; the rest is tallied and deleted."""
    runtime = runtime_named(name)
    async with runtime.sessions() as session:
        pruned = await history.prune(session, runtime.clock.now())
        await session.commit()
    if pruned.rows:
        log.info("nag history: %s rows tallied and pruned (%s escalations of met obligations)",
                 pruned.rows, pruned.escalations)
    return pruned


@_job
async def prune_updates(name: str) -> int:
    runtime = runtime_named(name)
    async with runtime.sessions() as session:
        count = await update_log.prune_processed(session, runtime.clock.now())
        await session.commit()
    if count:
        log.info("pruned %s processed update ids older than %s", count, update_log.RETENTION)
    return count
