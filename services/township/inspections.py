"""Inspection records (核查督导): the day, the kind (half-monthly as in Dawukou, quarterly as in Yubei, or on
site), and findings per village; written to the desk's log so each village's page shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import DeskAction, Inspection, InspectionFinding, Person, Village
from services.errors import DomainError
from services.township import access, inspection_photos

KINDS = ("half_monthly", "quarterly", "on_site")
MAX_FINDING = 2000


@dataclass(frozen=True)
class InspectionRow:
    id: int
    day: date
    kind: str
    by: str
    findings: list[tuple[str, str, str]]  # village code, name, text
    photos: list[int] = field(default_factory=list)  # InspectionPhoto ids, first sent first


async def record(session: AsyncSession, person: Person, township_id: int, day: date, kind: str,
                 findings: dict[int, str], now: datetime) -> Inspection:
    """`findings`: village id -> what was found (empty ones are dropped); villages of another township refused."""
    township = await access.township(session, person.id or 0, township_id)
    if kind not in KINDS:
        raise DomainError("desk.bad_kind")
    if day > now.date():
        raise DomainError("desk.inspection_future", day=day.isoformat())
    kept = {vid: text.strip()[:MAX_FINDING] for vid, text in findings.items() if text.strip()}
    villages = {v.id for v in await session.exec(select(Village).where(col(Village.id).in_(list(kept))))
                if v.township_id == township.id}
    if set(kept) - villages:
        raise DomainError("err.no_village")
    row = Inspection(township_id=township.id or 0, person_id=person.id, day=day, kind=kind, created_at=now)
    session.add(row)
    await session.flush()
    for vid, text in kept.items():
        session.add(InspectionFinding(inspection_id=row.id or 0, village_id=vid, text=text))
        session.add(DeskAction(township_id=township.id or 0, village_id=vid, person_id=person.id, kind="inspected",
                               inspection_id=row.id, note=text, what=[], at=now))
    if not kept:
        session.add(DeskAction(township_id=township.id or 0, person_id=person.id, kind="inspected",
                               inspection_id=row.id, what=[], at=now))
    return row


async def of_township(session: AsyncSession, township_id: int) -> list[InspectionRow]:
    rows = list(await session.exec(select(Inspection, Person).join(
        Person, isouter=True, onclause=col(Person.id) == Inspection.person_id)
        .where(Inspection.township_id == township_id).order_by(col(Inspection.day).desc(), col(Inspection.id))))
    ids = [i.id or 0 for i, _ in rows]
    found: dict[int, list[tuple[str, str, str]]] = {i: [] for i in ids}
    if ids:
        for finding, village in await session.exec(select(InspectionFinding, Village).join(
                Village, col(Village.id) == InspectionFinding.village_id)
                .where(col(InspectionFinding.inspection_id).in_(ids)).order_by(col(Village.code))):
            found[finding.inspection_id].append((village.code, village.name, finding.text))
    photos = await inspection_photos.ids_of(session, ids)
    return [InspectionRow(i.id or 0, i.day, i.kind, p.name if p else "", found[i.id or 0], photos[i.id or 0])
            for i, p in rows]
