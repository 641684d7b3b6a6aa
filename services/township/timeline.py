"""A village seen from the township: its obligations of a year, each met on time, late, overdue, not yet
due, or not applicable (fell due before the village joined); its published notices with their posting
proof; and what the desk did about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import PERIODIC
from catalogs.due import due_date
from models import DeskAction, Notice, Person, PostingProof, Rectification, Village
from services.deadlines.obligations import (
    COUNTED_STATES,
    event_owed,
    joined_on,
    load_event_obligations,
    load_published,
    periods_due_between,
    status_of,
)
from services.policy import Policy

NOT_APPLICABLE = "na"


@dataclass(frozen=True)
class Cell:
    period: str
    due: date
    status: str  # met_on_time | met_late | overdue | due | na
    met_on: date | None = None


@dataclass
class Line:
    zh: str
    en: str
    cells: list[Cell] = field(default_factory=list)


@dataclass(frozen=True)
class NoticeLine:
    id: int
    title: str
    item_id: str | None
    period: str | None
    published_at: datetime | None
    proofs: int
    last_proof: datetime | None


@dataclass(frozen=True)
class ActionLine:
    kind: str
    at: datetime
    who: str
    note: str
    what: list[dict[str, str]]


@dataclass
class VillageDesk:
    village: Village
    year: int
    joined: date
    lines: list[Line]
    notices: list[NoticeLine]
    actions: list[ActionLine]
    orders: list[Rectification]


async def timeline(session: AsyncSession, policy: Policy, village: Village, year: int, now: datetime) -> list[Line]:
    today, joined, vid = policy.today(village, now), joined_on(policy, village), village.id or 0
    profile, catalog = policy.profile_for(village), policy.catalog_for(village)
    first, last = date(year, 1, 1), date(year, 12, 31)
    published = await load_published(session, policy, {vid: village})
    lines: list[Line] = []
    for item in catalog.items():
        cadence = item.effective_cadence(village.monthly_finance)
        if cadence not in PERIODIC:
            continue
        line = Line(item.zh_simplified or item.zh, item.en)
        for period in periods_due_between(profile, cadence, first, last):
            due = due_date(profile, cadence, period)
            if due < joined:
                line.cells.append(Cell(str(period), due, NOT_APPLICABLE))
                continue
            status, met_on = status_of(due, published.get((vid, item.full_id, str(period)), []), today)
            line.cells.append(Cell(str(period), due, status, met_on))
        lines.append(line)
    for row in (await load_event_obligations(session, [vid])).get(vid, []):
        if row.due.year == year:
            owed = event_owed(policy, village, row, today)
            lines.append(Line(owed.zh, owed.en, [Cell(row.event_date.isoformat(), row.due, owed.status, owed.met_on)]))
    return lines


async def notices(session: AsyncSession, village_id: int, limit: int = 50) -> list[NoticeLine]:
    """The village's published notices, newest first, with how many posting photos each has."""
    rows = list(await session.exec(select(Notice).where(
        Notice.village_id == village_id, col(Notice.state).in_(COUNTED_STATES))
        .order_by(col(Notice.published_at).desc()).limit(limit)))
    ids = [n.id or 0 for n in rows]
    proofs = {nid: (int(count), last) for nid, count, last in await session.exec(
        select(PostingProof.notice_id, func.count(), func.max(PostingProof.at))
        .where(col(PostingProof.notice_id).in_(ids)).group_by(col(PostingProof.notice_id)))} if ids else {}
    return [NoticeLine(n.id or 0, n.title, n.item_id, n.period, n.published_at, *proofs.get(n.id or 0, (0, None)))
            for n in rows]


async def actions(session: AsyncSession, village_id: int, limit: int = 50) -> list[ActionLine]:
    rows = await session.exec(select(DeskAction, Person).join(Person, isouter=True,
                              onclause=col(Person.id) == DeskAction.person_id)
                              .where(DeskAction.village_id == village_id)
                              .order_by(col(DeskAction.at).desc(), col(DeskAction.id).desc()).limit(limit))
    return [ActionLine(a.kind, a.at, p.name if p else "", a.note or "", list(a.what)) for a, p in rows]


async def desk(session: AsyncSession, policy: Policy, village: Village, year: int, now: datetime) -> VillageDesk:
    orders = list(await session.exec(select(Rectification).where(Rectification.village_id == village.id)
                                     .order_by(col(Rectification.id).desc())))
    return VillageDesk(village, year, joined_on(policy, village),
                       await timeline(session, policy, village, year, now),
                       await notices(session, village.id or 0), await actions(session, village.id or 0), orders)
