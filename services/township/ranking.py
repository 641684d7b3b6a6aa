"""The ranking of a township's villages (or a county's: many townships at once), worst first: overdue
obligations, days late, on-time rate this quarter and this year, questions unanswered past their deadline,
petitions waiting.

The same counting as the compliance report (services.deadlines.compliance.Tally: an obligation counts in
the period in which it fell due; what has not fallen due and is unmet is pending, not counted) and the
same obligations as the nags (services.deadlines.obligations.slots, nothing owed before the village
joined). Built from a handful of set-based queries for all the villages, then pure Python, so that 1,600
villages rank in well under a second (bench/console.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, func, type_coerce
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Cadence, Period
from models import Notice, Obligation, Petition, Question, Township, Village
from services.deadlines.compliance import Tally
from services.deadlines.obligations import (
    COUNTED_STATES,
    LONG,
    OVERDUE,
    Owed,
    SlotCache,
    event_owed,
    joined_on,
    load_event_obligations,
    log_broken,
    settings_problem,
    slots,
)
from services.policy import Policy

OPEN_QUESTIONS = ("open", "explain")
FirstDays = dict[int, dict[tuple[str, str], datetime]]  # village -> (item, period) -> first published, naive UTC
WAITING_PETITIONS = ("pending", "open")


@dataclass
class VillageRank:
    village_id: int
    code: str
    name: str
    township_id: int
    township: str
    today: date
    overdue: list[Owed] = field(default_factory=list)
    days_late: int = 0  # summed over the overdue obligations
    longest: int = 0  # the oldest overdue obligation's days late
    quarter: Tally = field(default_factory=Tally)
    year: Tally = field(default_factory=Tally)
    questions_late: int = 0
    petitions_waiting: int = 0
    problem: str | None = None
    rank: int = 0

    @property
    def needs_action(self) -> bool:
        return bool(self.overdue or self.questions_late)

    def sort_key(self) -> tuple[int, int, int, float, str]:
        rate = self.year.rate if self.year.rate is not None else 1.0
        return (0 if self.problem is None else 1, -len(self.overdue), -self.days_late, rate, self.code)


@dataclass
class Ranking:
    townships: list[Township]
    quarter: str
    year: int
    villages: list[VillageRank]

    @property
    def overdue(self) -> int:
        return sum(len(v.overdue) for v in self.villages)

    @property
    def needing_action(self) -> list[VillageRank]:
        return [v for v in self.villages if v.needs_action]

    def total(self, which: str) -> Tally:
        found = Tally()
        for village in self.villages:
            tally: Tally = getattr(village, which)
            found.on_time += tally.on_time
            found.late += tally.late
            found.overdue += tally.overdue
            found.pending += tally.pending
        return found

    @property
    def questions_late(self) -> int:
        return sum(v.questions_late for v in self.villages)

    @property
    def petitions_waiting(self) -> int:
        return sum(v.petitions_waiting for v in self.villages)


async def rank(session: AsyncSession, policy: Policy, townships: list[Township], now: datetime) -> Ranking:
    """Every village of these townships, worst first."""
    names = {t.id or 0: t.name for t in townships}
    villages = {v.id or 0: v for v in await session.exec(
        select(Village).where(col(Village.township_id).in_(list(names))).order_by(col(Village.code)))}
    today = policy.today(None, now)
    quarter = Period.containing(Cadence.QUARTERLY, today)
    ranking = Ranking(townships, str(quarter), today.year, [])
    if not villages:
        return ranking
    firsts = await _first_published(session, policy, villages)
    events = await load_event_obligations(session, list(villages))
    questions = await _count(session, Question, villages, col(Question.state).in_(OPEN_QUESTIONS),
                             col(Question.due) < today)
    petitions = await _count(session, Petition, villages, col(Petition.state).in_(WAITING_PETITIONS))
    since = min(joined_on(policy, v) for v in villages.values())
    cache: SlotCache = {}
    plans: dict[tuple[object, ...], list[Planned]] = {}
    for vid, village in villages.items():
        row = VillageRank(vid, village.code, village.name, village.township_id, names[village.township_id],
                          policy.today(village, now), questions_late=questions.get(vid, 0),
                          petitions_waiting=petitions.get(vid, 0))
        row.problem = settings_problem(policy, village)
        if row.problem is not None:
            log_broken(village.code, row.problem, "the township console")
        else:
            plan = _plan(policy, village, row.today, since, cache, plans)
            _evaluate(policy, village, row, plan, firsts, events.get(vid, []))
        ranking.villages.append(row)
    ranking.villages.sort(key=VillageRank.sort_key)
    for place, row in enumerate(ranking.villages, 1):
        row.rank = place
    return ranking


@dataclass(frozen=True)
class Planned:
    """A periodic obligation of a shape of villages (one profile, catalog, finance cadence and local day),
    with what the ranking asks of it computed once: the ranking of 1,600 villages is a tight loop."""

    item_id: str
    period: str
    due: date
    key: str
    cadence: str
    zh: str
    en: str
    in_year: bool
    in_quarter: bool
    cutoff: datetime  # naive UTC: a first publication before it was on time (the end of the due day, locally)
    ident: tuple[str, str]  # (item, period): its key among a village's first publications


def _plan(policy: Policy, village: Village, today: date, since: date, cache: SlotCache,
          plans: dict[tuple[object, ...], list[Planned]]) -> list[Planned]:
    """The shape's plan, made once: villages of one profile, catalog, kind, finance cadence, zone and day."""
    zone = policy.tz(village)
    shape = (village.profile, village.catalog, village.kind, village.monthly_finance, today, zone.key)
    if shape not in plans:
        quarter = Period.containing(Cadence.QUARTERLY, today)
        plans[shape] = sorted((Planned(
            s.item.full_id, str(s.period), s.due, s.key, s.cadence.value, s.item.zh_simplified or s.item.zh, s.item.en,
            s.due.year == today.year, quarter.start <= s.due <= quarter.end, _cutoff(s.due, zone),
            (s.item.full_id, str(s.period)))
            for s in slots(policy, village, today, since, cache) if s.period is not None and s.due is not None),
            key=lambda p: (p.due, p.key))
    return plans[shape]


def _cutoff(due: date, zone: ZoneInfo) -> datetime:
    end = datetime.combine(due + timedelta(days=1), time(0), tzinfo=zone)
    return end.astimezone(UTC).replace(tzinfo=None)


async def _first_published(session: AsyncSession, policy: Policy, villages: dict[int, Village]) -> FirstDays:
    """When each (village, item, period) was first published (naive UTC, as stored: no conversion per row):
    one row per obligation met. The first decides: on time if on or before the due date (obligations.status_of)."""
    notice = Notice.__table__.c  # type: ignore[attr-defined]
    first = type_coerce(func.min(notice.published_at), DateTime())
    query = core_select(notice.village_id, notice.item_id, notice.period, first).where(
        notice.state.in_(COUNTED_STATES), notice.item_id.is_not(None), notice.period.is_not(None),
        notice.corrects_id.is_(None), notice.published_at.is_not(None))
    if len(villages) <= 500:
        query = query.where(notice.village_id.in_(list(villages)))
    query = query.group_by(notice.village_id, notice.item_id, notice.period)
    found: FirstDays = {}
    connection = await session.connection()  # Core: plain tuples, no ORM loading for ~100,000 rows
    for vid, item_id, period, when in await connection.execute(query):
        if vid in villages and when is not None and item_id and period:
            found.setdefault(vid, {})[(item_id, period)] = when if when.tzinfo is None else \
                when.astimezone(UTC).replace(tzinfo=None)
    return found


def _evaluate(policy: Policy, village: Village, row: VillageRank, plan: list[Planned], firsts: FirstDays,
              events: list[Obligation]) -> None:
    """The village's periodic obligations against its first publications: a tight loop with local counters
    (it runs ~100,000 times for 1,600 villages), then its event obligations."""
    today, vid, joined = row.today, village.id or 0, joined_on(policy, village)
    mine = firsts.get(vid, {})
    year = [0, 0, 0, 0]  # on time, late, overdue, pending
    quarter = [0, 0, 0, 0]
    for p in plan:
        if p.due < joined:
            continue
        first = mine.get(p.ident)
        if first is None:
            if today > p.due:
                index = 2
                late = (today - p.due).days
                row.overdue.append(Owed(vid, p.key, p.item_id, p.period, p.cadence, p.due, OVERDUE, zh=p.zh,
                                        en=p.en))
                row.days_late += late
                row.longest = max(row.longest, late)
            else:
                index = 3
        else:
            index = 0 if first < p.cutoff else 1
        if p.in_year:  # pending (not yet due, unmet) is counted apart, as in the report
            year[index] += 1
            if p.in_quarter:
                quarter[index] += 1
    for tally, counts in ((row.year, year), (row.quarter, quarter)):
        tally.on_time, tally.late, tally.overdue, tally.pending = counts
    this_quarter = Period.containing(Cadence.QUARTERLY, today)
    for obligation in events:
        owed = event_owed(policy, village, obligation, today)
        _count_in(row, this_quarter, obligation.due, owed.status, owed if owed.status == OVERDUE else None)
    row.overdue.sort(key=lambda o: (o.due or date.max, o.key))


def _count_in(row: VillageRank, quarter: Period, due: date, status: str, overdue: Owed | None) -> None:
    if overdue is not None:
        late = (row.today - due).days
        row.overdue.append(overdue)
        row.days_late += late
        row.longest = max(row.longest, late)
    if due.year == row.today.year:  # pending (not yet due, unmet) is counted apart, as in the report
        row.year.add(status)
        if quarter.start <= due <= quarter.end:
            row.quarter.add(status)


async def _count(session: AsyncSession, table: type[Question] | type[Petition], villages: dict[int, Village],
                 *where: Any) -> dict[int, int]:
    village_id = col(table.village_id)
    query = select(village_id, func.count()).where(village_id.in_(list(villages)), *where).group_by(village_id)
    return {vid: int(count) for vid, count in await session.exec(query)}


def owed_view(owed: Owed) -> dict[str, str]:
    """What an order or an urge names, as plain values (stored in rows and outbox contexts)."""
    return {"key": owed.key, "zh": owed.zh, "en": owed.en, "period": owed.period or "",
            "due": owed.due.isoformat() if owed.due else "", "item": owed.item_id or "",
            "ob": str(owed.obligation_id or "")}


def by_township(ranking: Ranking) -> dict[int, list[VillageRank]]:
    found: dict[int, list[VillageRank]] = defaultdict(list)
    for row in ranking.villages:
        found[row.township_id].append(row)
    return found


__all__ = ["LONG", "Ranking", "VillageRank", "by_township", "owed_view", "rank"]
