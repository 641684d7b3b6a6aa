"""The nag log's retention: rows are kept as long as a scan can still need them, then summarised and pruned.

What a nag log row is for (services/deadlines/nags.py):
- every kind: the claim. A scan claims only nags of the village's local day, so a row of an earlier day can
  never be claimed again. Local days run up to 14 hours either side of UTC: rows whose day is more than
  KEEP_DAYS before today (UTC) are past any claim, with a margin for a scan that runs late.
- escalations (escalate_reviewers, escalate_township): also "sent once, ever" for their obligation, so they
  are kept for as long as the obligation is open. Once it is met (a counted root notice of its item and
  period; an event obligation's met notice) no scan nags about it any more, and its escalations go too. A
  met periodic obligation whose notice is later retracted is open again: a new lapse, escalated again.

Pruned rows are first added to `NagTally` (nags per local day and kind: each row's `count`, several for a
village's periodic nags of one kind and day), so the number of nags sent is still known
(bot/base/metrics.py). Without this the log grew with every day's nags and the scan slowed with the bot's
age; with it the log holds a few days of claims plus the open escalations, whatever the age.

Set-based statements (three DELETE .. RETURNING, then an upsert of the day's few tally rows), in the
caller's transaction: the scheduler's daily job (reminders/scheduler.py), the bench and tests call it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, literal, not_, select, tuple_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models import NagLog, NagTally, Notice, Obligation
from models.db import upsert
from services.deadlines.nags import ESCALATION_KINDS
from services.deadlines.obligations import COUNTED_STATES, LONG

KEEP_DAYS = 3  # > the 2 local days a UTC moment can span, +1 for a scan that runs late


@dataclass
class Pruned:
    rows: int = 0  # nag log rows summarised and deleted
    escalations: int = 0  # of which escalations of obligations since met


def cutoff(now: datetime, keep_days: int = KEEP_DAYS) -> date:
    """Rows of a local day before this one are past any claim."""
    return now.date() - timedelta(days=keep_days)


def _prunable(before: date) -> list[Any]:
    """Rows of a day past any claim, unless an escalation of an obligation still open: three conditions, one
    DELETE each. Each met-obligation set is an IN (subquery) at the top of its WHERE, which PostgreSQL runs as
    a hash semi-join that spills to disk when it must. Joined by OR in one statement they were subplans, and
    with statistics (a real database; the bench's copies had none) PostgreSQL judged 680,000 published keys
    too many to hash in work_mem and rescanned them for every row of the log: hours, not a second."""
    log = NagLog.__table__  # type: ignore[attr-defined]
    notice = Notice.__table__  # type: ignore[attr-defined]
    obligation = Obligation.__table__  # type: ignore[attr-defined]
    published = (select(notice.c.village_id, notice.c.item_id + "@" + func.coalesce(notice.c.period, LONG))
                 .where(notice.c.state.in_(COUNTED_STATES), notice.c.item_id.is_not(None),
                        notice.c.corrects_id.is_(None)))
    met = (select(obligation.c.village_id, literal("ob:") + cast(obligation.c.id, String))
           .where(obligation.c.met_notice_id.is_not(None)))
    row = tuple_(log.c.village_id, log.c.obligation_key)
    old, escalation = log.c.day < before, log.c.kind.in_(ESCALATION_KINDS)
    return [and_(old, not_(escalation)), and_(old, escalation, row.in_(published)), and_(old, escalation, row.in_(met))]


async def prune(session: AsyncSession, now: datetime, keep_days: int = KEEP_DAYS) -> Pruned:
    """Delete the nag log rows no scan can need any more (see the module's docstring) and add them to the
    tally: DELETE .. RETURNING their day, kind and count, summed here (a day's few kinds)."""
    before = cutoff(now, keep_days)
    log = NagLog.__table__  # type: ignore[attr-defined]
    tally = NagTally.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    counts: Counter[tuple[date, str]] = Counter()
    rows = 0
    for condition in _prunable(before):
        gone = await connection.execute(delete(log).where(condition).returning(log.c.day, log.c.kind, log.c.count))
        for day, kind, count in gone:
            counts[(day, kind)] += count
            rows += 1
    if not counts:
        return Pruned()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = upsert(dialect)
    statement = insert(tally).values([{"day": day, "kind": kind, "count": n} for (day, kind), n in counts.items()])
    await connection.execute(statement.on_conflict_do_update(
        index_elements=["day", "kind"], set_={"count": tally.c.count + statement.excluded.count}))
    return Pruned(rows=rows, escalations=sum(n for (_, kind), n in counts.items() if kind in ESCALATION_KINDS))


async def nags_sent(session: AsyncSession) -> int:
    """Every nag ever sent: the log's rows' counts and the tally of those pruned."""
    connection = await session.connection()
    logged = (await connection.execute(select(func.coalesce(func.sum(col(NagLog.count)), 0)))).scalar_one()
    tallied = (await connection.execute(select(func.coalesce(func.sum(col(NagTally.count)), 0)))).scalar_one()
    return int(logged) + int(tallied)
