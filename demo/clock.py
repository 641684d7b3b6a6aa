"""The simulated clock of the demo's deadlines chapter ("a quarter passes"), in and out of process.

The chapter must move the bot's clock and then run the nag scan at that time, as the hourly job would.
Two ways, one interface:

- `cunwu demo` plays in process: the bot's Runtime is the one the scheduler registered as "main"
  (reminders.scheduler.RUNTIMES); its clock becomes a ShiftedClock and the scan is the job's own step.
- tests/e2e/test_real_process.py plays against a real `cunwu run`: that process reads its time from the
  file named by FAKE_CLOCK_FILE (bot.base.clock.FileClock, tests and demos only), the test puts a `FileStoryClock`
  on the same file into `stage.facts["clock"]`, and the scan runs in the test process on the shared database
  (the running bot's delivery worker then sends what it queued, as it would for its own scheduler's rows).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.base.clock import FileClock, ShiftedClock
from catalogs import Cadence, Period
from catalogs.due import due_date
from services.deadlines import nags
from services.policy import Policy

SCAN_HOUR = 10  # local: inside every village's scan window (the default SCAN_HOUR is 9, quiet from 21)


class StoryClock(Protocol):
    policy: Policy

    def now(self) -> datetime: ...

    def set(self, when: datetime) -> None: ...

    async def run_scan(self) -> None: ...


class InProcessClock:
    """The demo's own bot: its Runtime's clock is replaced, and the scan is the scheduler's step."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.policy: Policy = runtime.policy

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def set(self, when: datetime) -> None:
        self.runtime.clock = ShiftedClock(when)

    async def run_scan(self) -> None:
        from reminders import scheduler

        await scheduler.scan(self.runtime)
        self.runtime.wake_delivery()


class FileStoryClock:
    """A real `cunwu run` started with FAKE_CLOCK_FILE=path, on the database the stage's sessions reach."""

    def __init__(self, path: str, sessions: async_sessionmaker[AsyncSession], policy: Policy,
                 scan_hour: int = 9) -> None:
        self.clock, self.sessions, self.policy, self.scan_hour = FileClock(path), sessions, policy, scan_hour

    def now(self) -> datetime:
        return self.clock.now()

    def set(self, when: datetime) -> None:
        self.clock.set(when)

    async def run_scan(self) -> None:
        async with self.sessions() as session:
            await nags.daily_scan(session, self.policy, self.now(), scan_hour=self.scan_hour)
            await session.commit()


def story_clock(facts: dict[str, Any], registered: Callable[[str], Any] | None = None) -> StoryClock:
    """The clock the stage's runner put in its facts, else the in-process bot's."""
    if "clock" in facts:
        return facts["clock"]
    from reminders.scheduler import runtime_named

    return InProcessClock((registered or runtime_named)("main"))


def quarter_reminder_time(policy: Policy, now: datetime) -> tuple[datetime, Period]:
    """10:00 local, seven days before the current quarter's disclosure falls due: the day of the T-7 nag."""
    today: date = policy.today(None, now)
    quarter = Period.containing(Cadence.QUARTERLY, today)
    due = due_date(policy.registry.profile(policy.default_profile), Cadence.QUARTERLY, quarter)
    return datetime.combine(due - timedelta(days=7), time(SCAN_HOUR), tzinfo=policy.tz(None)), quarter
