"""Photos of an inspection (核查督导的现场照片): the inspector picks one of their townships' recent inspection
records in the bot and sends photos to it; each is kept as Telegram's file id (the console shows it by
fetching the picture through the bot). The inspector grant is re-checked for every photo and every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Inspection, InspectionPhoto, Person, Township
from services.errors import DomainError
from services.township import access

RECENT = 5  # records offered in the bot (older ones are rarely photographed late)
MAX_PHOTOS = 30  # per inspection: a record, not an album


@dataclass(frozen=True)
class Added:
    inspection: Inspection
    count: int  # photos the record holds now
    new: bool  # False: this picture was there already


async def recent(session: AsyncSession, person: Person) -> list[tuple[Inspection, Township, int]]:
    """The newest inspection records of the person's townships, with how many photos each holds."""
    townships = {t.id: t for t in await access.townships_of(session, person.id or 0)}
    rows = list(await session.exec(select(Inspection).where(col(Inspection.township_id).in_(list(townships)))
                                   .order_by(col(Inspection.day).desc(), col(Inspection.id).desc()).limit(RECENT)))
    counts = await counts_of(session, [r.id or 0 for r in rows])
    return [(r, townships[r.township_id], counts.get(r.id or 0, 0)) for r in rows]


async def inspection_of(session: AsyncSession, person: Person, inspection_id: int) -> Inspection:
    """The record, when the person inspects its township now (otherwise as if it did not exist)."""
    found = await session.get(Inspection, inspection_id)
    if found is None:
        raise DomainError("insp.no_record")
    await access.township(session, person.id or 0, found.township_id)
    return found


async def add(session: AsyncSession, person: Person, inspection_id: int, file_id: str, file_unique_id: str,
              now: datetime) -> Added:
    found = await inspection_of(session, person, inspection_id)
    held = (await counts_of(session, [inspection_id])).get(inspection_id, 0)
    twice = (await session.exec(select(InspectionPhoto.id).where(
        InspectionPhoto.inspection_id == inspection_id, InspectionPhoto.file_unique_id == file_unique_id))).first()
    if twice is not None:
        return Added(found, held, new=False)
    if held >= MAX_PHOTOS:
        raise DomainError("insp.too_many", count=MAX_PHOTOS)
    session.add(InspectionPhoto(inspection_id=inspection_id, person_id=person.id, file_id=file_id[:200],
                                file_unique_id=file_unique_id[:64], created_at=now))
    return Added(found, held + 1, new=True)


async def counts_of(session: AsyncSession, inspection_ids: list[int]) -> dict[int, int]:
    if not inspection_ids:
        return {}
    rows = await session.exec(select(InspectionPhoto.inspection_id, func.count()).where(
        col(InspectionPhoto.inspection_id).in_(inspection_ids)).group_by(col(InspectionPhoto.inspection_id)))
    return {inspection_id: count for inspection_id, count in rows}


async def ids_of(session: AsyncSession, inspection_ids: list[int]) -> dict[int, list[int]]:
    """Inspection id -> its photos' ids, first sent first (the console's thumbnails)."""
    found: dict[int, list[int]] = {i: [] for i in inspection_ids}
    if inspection_ids:
        for photo in await session.exec(select(InspectionPhoto).where(
                col(InspectionPhoto.inspection_id).in_(inspection_ids)).order_by(col(InspectionPhoto.id))):
            found[photo.inspection_id].append(photo.id or 0)
    return found


async def file_of(session: AsyncSession, person: Person, township_code: str, photo_id: int) -> str:
    """The photo's Telegram file id, when it belongs to an inspection of that township and the person
    inspects it; otherwise "not found"."""
    photo = await session.get(InspectionPhoto, photo_id)
    inspection = await session.get(Inspection, photo.inspection_id) if photo else None
    if photo is None or inspection is None:
        raise DomainError("insp.no_record")
    township = await access.township(session, person.id or 0, inspection.township_id)
    if township.code != township_code:
        raise DomainError("insp.no_record")
    return photo.file_id
