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

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, Integer, String, and_, column, func, or_, type_coerce, values
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
WAITING_PETITIONS = ("pending", "open")


@dataclass
class VillageRank:
    village_id: int
    code: str
    name: str
    township_id: int
    township: str
    today: date
    days_late: int = 0  # summed over the overdue obligations
    longest: int = 0  # the oldest overdue obligation's days late
    quarter: Tally = field(default_factory=Tally)
    year: Tally = field(default_factory=Tally)
    questions_late: int = 0
    petitions_waiting: int = 0
    problem: str | None = None
    rank: int = 0
    # what is overdue: the places of the village's plan (periodic obligations, earliest due first) and its
    # event obligations; made into Owed rows only when asked for (`overdue`), since a county's view ranks
    # 1,600 villages and names the obligations of twenty
    late_places: list[int] = field(default_factory=list)
    plan: list[Planned] = field(default_factory=list, repr=False)
    late_events: list[Owed] = field(default_factory=list)
    _overdue: list[Owed] | None = field(default=None, repr=False)

    @property
    def overdue_count(self) -> int:
        return len(self.late_places) + len(self.late_events)

    @property
    def overdue(self) -> list[Owed]:
        """The obligations overdue, earliest due first."""
        if self._overdue is None:
            found = self._owed(self.late_places)
            if self.late_events:
                found.extend(self.late_events)
                found.sort(key=lambda o: (o.due or date.max, o.key))
            self._overdue = found
        return self._overdue

    def first_overdue(self, count: int) -> list[Owed]:
        """The `count` obligations overdue the longest (a ranking names a few per village)."""
        if self._overdue is None and not self.late_events:
            return self._owed(self.late_places[:count])
        return self.overdue[:count]

    def _owed(self, places: list[int]) -> list[Owed]:
        return [Owed(self.village_id, p.key, p.item_id, p.period, p.cadence, p.due, OVERDUE, zh=p.zh, en=p.en)
                for p in map(self.plan.__getitem__, places)]

    @property
    def needs_action(self) -> bool:
        return bool(self.overdue_count or self.questions_late)

    def sort_key(self) -> tuple[int, int, int, float, str]:
        rate = self.year.rate if self.year.rate is not None else 1.0
        return (0 if self.problem is None else 1, -self.overdue_count, -self.days_late, rate, self.code)


@dataclass
class Ranking:
    townships: list[Township]
    quarter: str
    year: int
    villages: list[VillageRank]

    @property
    def overdue(self) -> int:
        return sum(v.overdue_count for v in self.villages)

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
    events = await load_event_obligations(session, list(villages))
    questions = await _count(session, Question, list(names), col(Question.state).in_(OPEN_QUESTIONS),
                             col(Question.due) < today)
    petitions = await _count(session, Petition, list(names), col(Petition.state).in_(WAITING_PETITIONS))
    since = min(joined_on(policy, v) for v in villages.values())
    cache: SlotCache = {}
    plans: dict[tuple[object, ...], Shape] = {}
    rows: dict[int, tuple[VillageRank, Shape]] = {}
    for vid, village in villages.items():
        row = VillageRank(vid, village.code, village.name, village.township_id, names[village.township_id],
                          policy.today(village, now), questions_late=questions.get(vid, 0),
                          petitions_waiting=petitions.get(vid, 0))
        row.problem = settings_problem(policy, village)
        if row.problem is not None:
            log_broken(village.code, row.problem, "the township console")
        else:
            shape = _plan(policy, village, row.today, since, cache, plans)
            shape.villages.append(vid)
            rows[vid] = (row, shape)
        ranking.villages.append(row)
    counted = {vid: counts for shape in plans.values()
               for vid, counts in (await _tallies(session, shape, list(names), len(villages))).items()}
    for vid, (row, shape) in rows.items():
        _evaluate(policy, villages[vid], row, shape, counted.get(vid), events.get(vid, []))
    ranking.villages.sort(key=VillageRank.sort_key)
    for place, row in enumerate(ranking.villages, 1):
        row.rank = place
    return ranking


@dataclass(frozen=True)
class Planned:
    """A periodic obligation of a shape of villages (one profile, catalog, finance cadence and local day),
    with what the ranking asks of it computed once."""

    item_id: str
    period: str
    due: date
    key: str
    cadence: str
    zh: str
    en: str
    in_year: bool
    in_quarter: bool
    past: bool  # fell due before today: unmet, it is overdue; else pending
    cutoff: datetime  # naive UTC: a first publication before it was on time (the end of the due day, locally)


@dataclass
class Shape:
    """Villages of one profile, catalog, kind, finance cadence, zone and local day: one plan, one query.

    Sets of places in the plan are kept as bit masks (bit n: the plan's n-th obligation), so that a village's
    overdue, pending, this year's and this quarter's obligations are a few integer operations, not loops."""

    today: date
    plan: list[Planned]  # in order of due date: those that fell due first, then those not yet due
    villages: list[int] = field(default_factory=list)
    late: list[int] = field(init=False)  # days late on the village's day, per place
    past: int = field(init=False)  # the places that fell due before today
    year: int = field(init=False)  # the places due this year
    quarter: int = field(init=False)  # the places due this quarter

    def __post_init__(self) -> None:
        self.late = [(self.today - p.due).days for p in self.plan]
        self.past = _mask(place for place, p in enumerate(self.plan) if p.past)
        self.year = _mask(place for place, p in enumerate(self.plan) if p.in_year)
        self.quarter = _mask(place for place, p in enumerate(self.plan) if p.in_quarter)

    def owed_from(self, joined: date) -> int:
        """The places of the obligations owed by a village that joined on that day (those due since)."""
        first = bisect_left(self.plan, joined, key=lambda p: p.due)
        return (1 << len(self.plan)) - (1 << first)


def _mask(places: Iterable[int]) -> int:
    found = 0
    for place in places:
        found |= 1 << place
    return found


def _places(mask: int) -> Iterator[int]:
    """The places of a mask, lowest (earliest due) first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _plan(policy: Policy, village: Village, today: date, since: date, cache: SlotCache,
          plans: dict[tuple[object, ...], Shape]) -> Shape:
    """The shape's plan, made once: villages of one profile, catalog, kind, finance cadence, zone and day."""
    zone = policy.tz(village)
    shape = (village.profile, village.catalog, village.kind, village.monthly_finance, today, zone.key)
    if shape not in plans:
        quarter = Period.containing(Cadence.QUARTERLY, today)
        plans[shape] = Shape(today, sorted((Planned(
            s.item.full_id, str(s.period), s.due, s.key, s.cadence.value, s.item.zh_simplified or s.item.zh, s.item.en,
            s.due.year == today.year, quarter.start <= s.due <= quarter.end, s.due < today, _cutoff(s.due, zone))
            for s in slots(policy, village, today, since, cache) if s.period is not None and s.due is not None),
            key=lambda p: (p.due, p.key)))
    return plans[shape]


def _cutoff(due: date, zone: ZoneInfo) -> datetime:
    end = datetime.combine(due + timedelta(days=1), time(0), tzinfo=zone)
    return end.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Counts:
    """A village's periodic obligations met, as counted in SQL: (on time, late) this year and this quarter, and
    which of the plan's obligations were met (their places in the plan)."""

    year: tuple[int, int]
    quarter: tuple[int, int]
    met: int  # the places in the plan met, as a mask (Shape)


async def _tallies(session: AsyncSession, shape: Shape, townships: list[int], everyone: int) -> dict[int, Counts]:
    """One query for all the shape's villages, counted in the database: each village's first publication of
    each (item, period) (ix_notice_first_published), joined to the shape's plan (a VALUES list) from the day
    the village joined (joined on or before the due day, locally: created before the end of that day, the
    plan's cutoff); grouped by village, on time and late counted with FILTER, the places met as one string.
    One row per village that met something, whatever the number of notices.

    Tried and given up: joining the notices to the plan first and grouping by (village, place), as fast on
    PostgreSQL and 25% slower on SQLite, which then searched the index once per village and plan entry."""
    if not shape.plan:
        return {}
    plan = values(column("place", String), column("item", String), column("period", String),
                  column("cutoff", DateTime), column("yr", Integer), column("qt", Integer),
                  name="plan").data([(str(place), p.item_id, p.period, p.cutoff, int(p.in_year), int(p.in_quarter))
                                     for place, p in enumerate(shape.plan)]).cte("plan")
    notice, village = Notice.__table__.c, Village.__table__.c  # type: ignore[attr-defined]
    mine = village.township_id.in_(townships) if len(shape.villages) == everyone else \
        village.id.in_(shape.villages)
    first = core_select(notice.village_id, notice.item_id, notice.period,
                   type_coerce(func.min(notice.published_at), DateTime()).label("first"),
                   func.max(village.created_at).label("joined")).select_from(
        Notice.__table__.join(Village.__table__, village.id == notice.village_id)).where(  # type: ignore[attr-defined]
        mine, notice.state.in_(COUNTED_STATES), notice.item_id.is_not(None), notice.period.is_not(None),
        notice.corrects_id.is_(None), notice.published_at.is_not(None)).group_by(
        notice.village_id, notice.item_id, notice.period).subquery("first")
    on_time, late = first.c.first < plan.c.cutoff, first.c.first >= plan.c.cutoff
    query = core_select(
        first.c.village_id,
        *(func.count().filter(and_(flag == 1, met)) for flag in (plan.c.yr, plan.c.qt) for met in (on_time, late)),
        func.aggregate_strings(plan.c.place, ","),
    ).select_from(first.join(plan, and_(plan.c.item == first.c.item_id, plan.c.period == first.c.period))).where(
        or_(first.c.joined.is_(None), first.c.joined < plan.c.cutoff)).group_by(first.c.village_id)
    connection = await session.connection()  # Core: one plain tuple per village
    return {vid: Counts((y_on, y_late), (q_on, q_late), _mask(map(int, places.split(","))))
            for vid, y_on, y_late, q_on, q_late, places in await connection.execute(query)}


def _evaluate(policy: Policy, village: Village, row: VillageRank, shape: Shape, counts: Counts | None,
              events: list[Obligation]) -> None:
    """The village's periodic obligations: met ones as counted in SQL; the rest of those owed since it joined
    are overdue (fell due) or pending. Then its event obligations."""
    late = shape.late
    unmet = shape.owed_from(joined_on(policy, village)) & ~(counts.met if counts is not None else 0)
    overdue, pending = unmet & shape.past, unmet & ~shape.past
    if overdue:
        row.late_places, row.plan = list(_places(overdue)), shape.plan
        row.days_late = sum(map(late.__getitem__, row.late_places))
        row.longest = late[row.late_places[0]]  # the earliest due
    # pending (not yet due, unmet) is counted apart, as in the report
    for tally, span, met in ((row.year, shape.year, counts.year if counts else (0, 0)),
                             (row.quarter, shape.quarter, counts.quarter if counts else (0, 0))):
        tally.on_time, tally.late = met
        tally.overdue, tally.pending = (overdue & span).bit_count(), (pending & span).bit_count()
    if events:
        this_quarter = Period.containing(Cadence.QUARTERLY, row.today)
        for obligation in events:
            owed = event_owed(policy, village, obligation, row.today)
            _count_in(row, this_quarter, obligation.due, owed.status, owed if owed.status == OVERDUE else None)


def _count_in(row: VillageRank, quarter: Period, due: date, status: str, overdue: Owed | None) -> None:
    if overdue is not None:
        late = (row.today - due).days
        row.late_events.append(overdue)
        row.days_late += late
        row.longest = max(row.longest, late)
    if due.year == row.today.year:  # pending (not yet due, unmet) is counted apart, as in the report
        row.year.add(status)
        if quarter.start <= due <= quarter.end:
            row.quarter.add(status)


async def _count(session: AsyncSession, table: type[Question] | type[Petition], townships: list[int],
                 *where: Any) -> dict[int, int]:
    village_id = col(table.village_id)
    theirs = select(col(Village.id)).where(col(Village.township_id).in_(townships))
    query = select(village_id, func.count()).where(village_id.in_(theirs), *where).group_by(village_id)
    return {vid: int(count) for vid, count in await session.exec(query)}


def owed_view(owed: Owed) -> dict[str, str]:
    """What an order or an urge names, as plain values (stored in rows and outbox contexts)."""
    return {"key": owed.key, "zh": owed.zh, "en": owed.en, "period": owed.period or "",
            "due": owed.due.isoformat() if owed.due else "", "item": owed.item_id or "",
            "ob": str(owed.obligation_id or "")}


@dataclass
class TownshipRank:
    """A township's villages added up, for the county's view."""

    township: Township
    villages: int = 0
    needing: int = 0  # villages needing action
    overdue: int = 0
    days_late: int = 0
    quarter: Tally = field(default_factory=Tally)
    year: Tally = field(default_factory=Tally)
    questions_late: int = 0
    petitions_waiting: int = 0
    rank: int = 0

    def add(self, row: VillageRank) -> None:
        self.villages += 1
        self.needing += row.needs_action
        self.overdue += row.overdue_count
        self.days_late += row.days_late
        self.questions_late += row.questions_late
        self.petitions_waiting += row.petitions_waiting
        for mine, theirs in ((self.quarter, row.quarter), (self.year, row.year)):
            mine.on_time += theirs.on_time
            mine.late += theirs.late
            mine.overdue += theirs.overdue
            mine.pending += theirs.pending

    def sort_key(self) -> tuple[float, float, str]:
        """Worst first: the lowest on-time rate this year, then the most overdue per village."""
        rate = self.year.rate if self.year.rate is not None else 1.0
        return (rate, -self.overdue / max(self.villages, 1), self.township.code)


def townships_ranked(ranking: Ranking) -> list[TownshipRank]:
    """The ranking's townships, each its villages added up, worst first (a township without villages last)."""
    found = {t.id or 0: TownshipRank(t) for t in ranking.townships}
    for row in ranking.villages:
        found[row.township_id].add(row)
    ranked = sorted(found.values(), key=lambda t: (t.villages == 0, *t.sort_key()))
    for place, township in enumerate(ranked, 1):
        township.rank = place
    return ranked


def by_township(ranking: Ranking) -> dict[int, list[VillageRank]]:
    found: dict[int, list[VillageRank]] = defaultdict(list)
    for row in ranking.villages:
        found[row.township_id].append(row)
    return found


__all__ = ["LONG", "Ranking", "TownshipRank", "VillageRank", "by_township", "owed_view", "rank",
           "townships_ranked"]
