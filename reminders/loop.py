"""APScheduler's asyncio scheduler with its job store kept off the event loop's thread.

The job store is synchronous SQLAlchemy on the bot's own database. AsyncIOScheduler looks for due jobs, and
writes each one's next run time, on the event loop's thread: on SQLite, a write that meets an update's open
write transaction waits for SQLite's lock while holding the loop, and the loop is what that transaction needs
to commit. Both wait until the busy timeout; then the store's UPDATE fails ("database is locked", seen in the
demo for the update-pruning job that falls due as an instance starts leading), and since that error escapes
the scheduler's wakeup, its timer is never set again: no scan, no report, until something else wakes it.

`OffLoopScheduler` does the same work in a worker thread: the loop goes on (the update commits, the store's
write then proceeds), the coroutine jobs found due are handed back to the loop (`LoopExecutor`), and a
failure of the store is logged and retried after `jobstore_retry_interval` instead of stopping the timer.
One pass at a time: a wakeup during a pass asks for another pass after it. Starting, adding and removing jobs
stay where AsyncIOScheduler does them (on the loop, once, when an instance starts leading).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler, run_in_event_loop
from apscheduler.schedulers.base import STATE_STOPPED

log = logging.getLogger("cunwu.reminders")


class LoopExecutor(AsyncIOExecutor):
    """Runs coroutine jobs on the scheduler's event loop, whichever thread submits them."""

    def _do_submit_job(self, job: Any, run_times: list[Any]) -> None:
        self._eventloop.call_soon_threadsafe(AsyncIOExecutor._do_submit_job, self, job, run_times)


class OffLoopScheduler(AsyncIOScheduler):
    _passing = False  # a pass over the job store is running in a worker thread
    _again = False  # woken during that pass: pass again after it

    @run_in_event_loop
    def wakeup(self) -> None:
        self._stop_timer()
        if self._passing:
            self._again = True
            return
        self._passing = True
        loop: asyncio.AbstractEventLoop = self._eventloop
        loop.run_in_executor(None, self._process_jobs).add_done_callback(self._passed)

    def _passed(self, future: asyncio.Future[float | None]) -> None:
        """On the loop, after a pass: set the timer for the next one."""
        self._passing = False
        if self._eventloop is None or self.state == STATE_STOPPED or future.cancelled():
            return
        if self._again:
            self._again = False
            self.wakeup()
            return
        try:
            wait = future.result()
        except Exception:
            log.exception("the scheduler could not process its jobs; retrying in %s s", self.jobstore_retry_interval)
            wait = self.jobstore_retry_interval
        self._start_timer(wait)

    def _create_default_executor(self) -> AsyncIOExecutor:
        return LoopExecutor()
