"""The nag log's retention: rows are kept as long as a scan can still need them, then summarised and pruned.

What a nag log row is for (services/deadlines/nags.py):
- every kind: the claim. A scan claims only nags of the village's local day, so a row of an earlier day can
  never be claimed again. Local days run up to 14 hours either side of UTC: rows whose day is more than
  KEEP_DAYS before today (UTC) are past any claim, with a margin for a scan that runs late.
- escalations (escalate_reviewers, escalate_township): also "sent once, ever" for their obligation, so they
  are kept for as long as the obligation is open. Once it is met (a counted root notice of its item and
  period; an event obligation's met notice) no scan nags about it any more, and its escalations go too. A
  met periodic obligation whose notice is later retracted is open again: a new lapse, escalated again.

Pruned rows are first added to `NagTally` (nags per local day and kind), so the number of nags sent is
still known (bot/base/metrics.py). Without this the log grew by ~180,000 rows on a heavy day for 10,000
villages and the scan slowed with the bot's age; with it the log holds a few days of nags plus the open
escalations, whatever the age.

Two statements, set-based (INSERT .. SELECT .. GROUP BY .. ON CONFLICT DO UPDATE, then DELETE), in the
caller's transaction: the scheduler's daily job (reminders/scheduler.py), the bench and tests call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, delete, exists, func, literal, not_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models import NagLog, NagTally, Notice, Obligation
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


def _prunable(before: date) -> Any:
    log = NagLog.__table__  # type: ignore[attr-defined]
    notice = Notice.__table__  # type: ignore[attr-defined]
    obligation = Obligation.__table__  # type: ignore[attr-defined]
    published = exists().where(
        notice.c.village_id == log.c.village_id, notice.c.state.in_(COUNTED_STATES),
        notice.c.item_id.is_not(None), notice.c.corrects_id.is_(None),
        notice.c.item_id + "@" + func.coalesce(notice.c.period, LONG) == log.c.obligation_key)
    met = exists().where(
        obligation.c.village_id == log.c.village_id, obligation.c.met_notice_id.is_not(None),
        literal("ob:") + cast(obligation.c.id, String) == log.c.obligation_key)
    return and_(log.c.day < before,
                or_(not_(log.c.kind.in_(ESCALATION_KINDS)), published, met))


def _met_escalations(before: date) -> Any:
    log = NagLog.__table__  # type: ignore[attr-defined]
    return and_(_prunable(before), log.c.kind.in_(ESCALATION_KINDS))


async def prune(session: AsyncSession, now: datetime, keep_days: int = KEEP_DAYS) -> Pruned:
    """Summarise into NagTally, then delete, the nag log rows no scan can need any more (see module doc)."""
    before = cutoff(now, keep_days)
    log = NagLog.__table__  # type: ignore[attr-defined]
    tally = NagTally.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    counts = (select(log.c.day, log.c.kind, func.count().label("count"))
              .where(_prunable(before)).group_by(log.c.day, log.c.kind))
    statement = insert(tally).from_select(["day", "kind", "count"], counts)
    statement = statement.on_conflict_do_update(index_elements=["day", "kind"],
                                                set_={"count": tally.c.count + statement.excluded.count})
    connection = await session.connection()
    escalations = (await connection.execute(
        select(func.count()).select_from(log).where(_met_escalations(before)))).scalar_one()
    await connection.execute(statement)
    deleted = (await connection.execute(delete(log).where(_prunable(before)))).rowcount
    return Pruned(rows=deleted or 0, escalations=escalations)


async def nags_sent(session: AsyncSession) -> int:
    """Every nag ever sent: the log's rows and the tally of those pruned."""
    connection = await session.connection()
    logged = (await connection.execute(select(func.count()).select_from(NagLog.__table__))).scalar_one()  # type: ignore[attr-defined]
    tallied = (await connection.execute(select(func.coalesce(func.sum(col(NagTally.count)), 0)))).scalar_one()
    return int(logged) + int(tallied)
