"""The township's inspection cadence as an obligation (核查督导: every half month in Dawukou, 002; at least
once a quarter on site in Yubei, 001; the profile says which, catalogs/inspection.py). Each period's
inspection is due on its last day and met by an inspection record of the township dated within it
(services/township/inspections.record). Owed only for periods that began after the township joined.

Nagged like a village's obligation, by the same rules (services/deadlines/nags.py): the same days before the
due date (`kinds_for`: 7, 3, 1, 0), a nag every day once overdue, in the same waking hours, each claimed
once in the nag log first. The township's inspectors are told; the township escalation (7 days late) goes
once to its filing group (the county has no place in the directory). In the nag log a township's rows are
keyed by its id negated (the log's village column has no foreign key, and village ids are positive), with
obligation keys "in:<period>"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs.inspection import InspectionPeriod, owed_periods
from catalogs.profile import InspectionCadence
from models import BoundChat, Inspection, NagLog, RoleGrant, Township, Village
from services.deadlines.nags import ESCALATE_REVIEWERS, ESCALATE_TOWNSHIP, awake, kinds_for
from services.outbox import queue, queue_to_person
from services.policy import Policy
from services.township.actions import inspectors

KEY = "in:"


@dataclass(frozen=True)
class Owed:
    """One period's inspection: met (by an inspection on `met_on`) or still owed."""

    period: InspectionPeriod
    met_on: date | None

    @property
    def key(self) -> str:
        return KEY + self.period.code


def cadence_of(policy: Policy, township: Township, villages: list[Village]) -> InspectionCadence | None:
    """The profile of the township's villages (the first one's; none: the deployment's)."""
    name = villages[0].profile if villages and villages[0].profile else policy.default_profile
    return policy.registry.profile(name).inspection


async def status(session: AsyncSession, policy: Policy, township: Township, now: datetime) -> list[Owed]:
    """The previous period's inspection and the current one's (those owed at all), oldest first."""
    villages = list(await session.exec(select(Village).where(Village.township_id == township.id)
                                       .order_by(col(Village.id)).limit(1)))
    cadence = cadence_of(policy, township, villages)
    if cadence is None:
        return []
    tz = policy.zone(township.timezone)
    today, joined = now.astimezone(tz).date(), township.created_at.astimezone(tz).date()
    periods = owed_periods(cadence.every, joined, today)
    if not periods:
        return []
    days: list[date] = list(await session.exec(select(col(Inspection.day)).where(
        Inspection.township_id == township.id, col(Inspection.day) >= periods[0].start,
        col(Inspection.day) <= periods[-1].end)))
    return [Owed(p, min((d for d in days if p.start <= d <= p.end), default=None)) for p in periods]


def view(owed: list[Owed], lang: str, today: date) -> list[dict[str, object]]:
    """Plain values for the console's inspections page: each period in words, its due date, met or late."""
    return [{"period": o.period.words(lang), "due": o.period.end.isoformat(),
             "met_on": o.met_on.isoformat() if o.met_on else "",
             "late": max(0, (today - o.period.end).days) if o.met_on is None else 0} for o in owed]


async def scan(session: AsyncSession, policy: Policy, now: datetime, scan_hour: int = 9) -> int:
    """Nags due today for every township with an inspector; returns the messages queued."""
    count = 0
    townships = list(await session.exec(select(Township).where(col(Township.id).in_(
        select(RoleGrant.township_id).where(RoleGrant.role == "inspector", RoleGrant.status == "active")))))
    for township in townships:
        local = now.astimezone(policy.zone(township.timezone))
        if not awake(local.hour, scan_hour):
            continue
        for owed in await status(session, policy, township, now):
            if owed.met_on is None:
                count += await _nag(session, township, owed, local.date(), now)
    return count


async def _nag(session: AsyncSession, township: Township, owed: Owed, today: date, now: datetime) -> int:
    count = 0
    due = owed.period.end
    context = {"township": township.name, "period_zh": owed.period.words("zh"),
               "period_en": owed.period.words("en"), "due": due.isoformat(), "days": (due - today).days}
    for kind in kinds_for(due, today):
        if kind == ESCALATE_REVIEWERS:  # a village's reviewers: the township has none
            continue
        if kind == ESCALATE_TOWNSHIP:  # once ever: claimed on the due date, never on a later day
            if await _claim(session, township, owed.key, kind, due, now):
                count += await _escalate(session, township, owed, context)
            continue
        if await _claim(session, township, owed.key, kind, today, now):
            for person in await inspectors(session, township.id or 0):
                queue_to_person(session, person, "insp_due", {**context, "kind": kind},
                                topic=f"in:{township.id}:{owed.period.code}:{person.id}")
                count += 1
    return count


async def _escalate(session: AsyncSession, township: Township, owed: Owed, context: dict[str, object]) -> int:
    count = 0
    for chat in await session.exec(select(BoundChat).where(BoundChat.township_id == township.id,
                                                           BoundChat.purpose == "filing", BoundChat.active == True)):  # noqa: E712
        queue(session, chat.chat_id, "insp_escalated", context, topic=f"in-late:{township.id}:{owed.period.code}")
        count += 1
    return count


async def _claim(session: AsyncSession, township: Township, key: str, kind: str, day: date, now: datetime) -> bool:
    """Once per township, period, kind and day, however often the hourly job runs."""
    row = (-(township.id or 0), key, kind, day)
    if await session.get(NagLog, row) is not None:
        return False
    session.add(NagLog(village_id=row[0], obligation_key=key, kind=kind, day=day, sent_at=now))
    await session.flush()
    return True
