"""Per-person rate limits of the residents' voice: questions a day, petitions started a day, signatures (and
withdrawals) an hour. The limits are settings (QUESTION_DAILY_LIMIT, PETITION_DAILY_LIMIT,
SIGNING_HOURLY_LIMIT); handlers pass them in.

Each limit is a counter row per person, action and window (VoiceQuota). Taking a slot is an
INSERT .. ON CONFLICT DO NOTHING (the window's row exists) and then one conditional UPDATE (used < limit): on
PostgreSQL the UPDATE locks the row and re-checks the condition against the latest committed count, on SQLite
it holds the write lock, so two quick taps cannot both take the last slot. The slot belongs to the
transaction that took it: when the action fails and rolls back, the slot is free again. Taking a slot also
deletes the person's rows of earlier windows of that action, so the table holds at most one row per person
and action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import ColumnElement, delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Village, VoiceQuota
from models.db import upsert
from services.errors import DomainError
from services.policy import Policy

QUESTION, PETITION, SIGN = "question", "petition", "sign"


@dataclass(frozen=True)
class Quota:
    """One limit as the services apply it: the action, where its window starts, how many it allows, and the
    message (locale key) that says it is reached."""

    action: str
    window_start: datetime
    limit: int
    refusal: str


def daily(policy: Policy, village: Village, now: datetime, action: str, limit: int, refusal: str) -> Quota:
    """A limit per day of the village's calendar (from its local midnight)."""
    midnight = datetime.combine(policy.today(village, now), time(0), tzinfo=policy.tz(village))
    return Quota(action, midnight, limit, refusal)


def hourly(now: datetime, action: str, limit: int, refusal: str) -> Quota:
    return Quota(action, now.replace(minute=0, second=0, microsecond=0), limit, refusal)


def _matches(person_id: int, quota: Quota) -> list[ColumnElement[bool]]:
    return [col(VoiceQuota.person_id) == person_id, col(VoiceQuota.action) == quota.action,
            col(VoiceQuota.window_start) == quota.window_start]


async def used(session: AsyncSession, person_id: int, quota: Quota) -> int:
    found = await session.exec(select(VoiceQuota.used).where(*_matches(person_id, quota)))
    return int(found.first() or 0)


async def check(session: AsyncSession, person_id: int, quota: Quota) -> None:
    """Early word for the person (opening a link, starting a conversation); `take` is what enforces it."""
    if await used(session, person_id, quota) >= quota.limit:
        raise DomainError(quota.refusal, limit=quota.limit)


async def take(session: AsyncSession, person_id: int, quota: Quota) -> None:
    """Take one slot of the person's quota in this transaction, or refuse with the quota's message."""
    await session.exec(delete(VoiceQuota).where(
        col(VoiceQuota.person_id) == person_id, col(VoiceQuota.action) == quota.action,
        col(VoiceQuota.window_start) < quota.window_start))
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = upsert(dialect)
    await session.exec(insert(VoiceQuota).values(
        person_id=person_id, action=quota.action, window_start=quota.window_start, used=0,
    ).on_conflict_do_nothing(index_elements=["person_id", "action", "window_start"]))
    taken = await session.exec(
        update(VoiceQuota).where(*_matches(person_id, quota), col(VoiceQuota.used) < quota.limit)
        .values(used=VoiceQuota.used + 1))
    if taken.rowcount != 1:
        raise DomainError(quota.refusal, limit=quota.limit)

