"""Periodic work of the residents' voice (question reply deadlines, petitions opening by themselves and
expiring). The scheduler (reminders/scheduler.py) calls `hourly` once an hour."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel.ext.asyncio.session import AsyncSession

from services.voice import petitions, questions

if TYPE_CHECKING:
    from bot.process.runtime import Runtime

log = logging.getLogger("cunwu.voice")


async def hourly(runtime: Runtime) -> dict[str, int]:
    """Each step is a service call in its own transaction, so one failing step does not hold up the others.
    Every step is idempotent: running it twice in an hour (two schedulers, a restart) says nothing twice."""
    now = runtime.clock.now()
    days = runtime.settings.petition_days
    steps: dict[str, Callable[[AsyncSession], Awaitable[int]]] = {
        "questions": lambda s: questions.remind_and_escalate(s, runtime.policy, now),
        "opened": lambda s: petitions.open_due(s, runtime.policy, now, days),
        "expired": lambda s: petitions.expire_due(s, runtime.policy, now),
    }
    done: dict[str, int] = {}
    for name, step in steps.items():
        done[name] = await _run(runtime, name, step, now)
    runtime.wake_delivery()
    return done


async def _run(runtime: Runtime, name: str, step: Callable[[AsyncSession], Awaitable[int]], now: datetime) -> int:
    async with runtime.sessions() as session:
        try:
            count = await step(session)
            await session.commit()
            return count
        except Exception:
            await session.rollback()
            log.exception("voice step %s failed at %s", name, now.isoformat())
            return 0
