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
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Cadence, Period
from models import Obligation, Petition, Question, Township, Village
from services.deadlines.compliance import Tally
from services.deadlines.obligations import (
    LONG,
    OVERDUE,
    Owed,
    Published,
    SlotCache,
    event_owed,
    joined_on,
    load_event_obligations,
    load_published,
    log_broken,
    settings_problem,
    slots,
    status_of,
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
    published = await load_published(session, policy, villages)
    events = await load_event_obligations(session, list(villages))
    questions = await _count(session, Question, villages, col(Question.state).in_(OPEN_QUESTIONS),
                             col(Question.due) < today)
    petitions = await _count(session, Petition, villages, col(Petition.state).in_(WAITING_PETITIONS))
    since = min(joined_on(policy, v) for v in villages.values())
    cache: SlotCache = {}
    for vid, village in villages.items():
        row = VillageRank(vid, village.code, village.name, village.township_id, names[village.township_id],
                          policy.today(village, now), questions_late=questions.get(vid, 0),
                          petitions_waiting=petitions.get(vid, 0))
        row.problem = settings_problem(policy, village)
        if row.problem is not None:
            log_broken(village.code, row.problem, "the township console")
        else:
            _evaluate(policy, village, row, published, events.get(vid, []), since, cache)
        ranking.villages.append(row)
    ranking.villages.sort(key=VillageRank.sort_key)
    for place, row in enumerate(ranking.villages, 1):
        row.rank = place
    return ranking


def _evaluate(policy: Policy, village: Village, row: VillageRank, published: Published, events: list[Obligation],
              since: date, cache: SlotCache) -> None:
    today, vid, joined = row.today, village.id or 0, joined_on(policy, village)
    quarter = Period.containing(Cadence.QUARTERLY, today)
    for slot in slots(policy, village, today, since, cache):
        if slot.period is None or slot.due is None or slot.due < joined:
            continue
        status, _ = status_of(slot.due, published.get((vid, slot.item.full_id, str(slot.period)), []), today)
        owed = None
        if status == OVERDUE:
            item = slot.item
            owed = Owed(vid, slot.key, item.full_id, str(slot.period), slot.cadence.value, slot.due, status,
                        zh=item.zh_simplified or item.zh, en=item.en)
        _count_in(row, quarter, slot.due, status, owed)
    for obligation in events:
        owed = event_owed(policy, village, obligation, today)
        _count_in(row, quarter, obligation.due, owed.status, owed if owed.status == OVERDUE else None)
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
