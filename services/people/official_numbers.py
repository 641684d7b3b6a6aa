"""A village's and its township's official numbers (seed 004: 公开监督联系电话): the supervision line and the
committee's office line. Set by the village's staff or an admin in the bot (/officialphone) and by the
directory file; the privacy screen never flags them (`keys`), whatever format a notice writes them in, and
the supervision line is printed at the foot of every notice and on the board."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import OfficialNumber, Person, Township, Village
from models.types import utcnow
from services import privacy
from services.errors import DomainError
from services.outbox import OFFICIAL_KEYS
from services.people import directory
from services.people.roles import Role

NUMBER_MAX = 40


class Kind(StrEnum):
    SUPERVISION = "supervision"  # 监督电话
    OFFICE = "office"  # 村委会办公电话


def parse_kind(value: str) -> Kind | None:
    try:
        return Kind(value.strip().lower())
    except ValueError:
        return None


def checked_key(number: str) -> str:
    """The number's key, or a DomainError when it is not one phone number."""
    number = number.strip()
    key = privacy.number_key(number) if len(number) <= NUMBER_MAX else None
    if key is None:
        raise DomainError("official.not_a_phone", number=number[:NUMBER_MAX])
    return key


async def numbers(session: AsyncSession, village: Village) -> list[OfficialNumber]:
    """The village's numbers, then its township's (supervision first)."""
    rows = await session.exec(select(OfficialNumber).where(or_(
        OfficialNumber.village_id == village.id, OfficialNumber.township_id == village.township_id)))
    return sorted(rows, key=lambda n: (n.village_id is None, n.kind != Kind.SUPERVISION, n.id or 0))


async def keys(session: AsyncSession, village_id: int) -> frozenset[str]:
    """What the privacy screen must never flag in this village's texts; kept for the session, where the
    outbox's gate reads them (services.outbox.OFFICIAL_KEYS)."""
    loaded: dict[int, frozenset[str]] = session.info.setdefault(OFFICIAL_KEYS, {})
    if village_id not in loaded:
        village = await session.get(Village, village_id)
        loaded[village_id] = frozenset(n.key for n in await numbers(session, village)) if village else frozenset()
    return loaded[village_id]


async def keys_of(session: AsyncSession, villages: dict[int, int], chunk: int = 2000) -> dict[int, frozenset[str]]:
    """`keys` for many villages at once ({village id: its township id}), in a query per chunk of ids: for the
    nag scan, which masks what people typed in thousands of villages' reminders."""
    found: dict[int, set[str]] = {vid: set() for vid in villages}
    of_township: dict[int, set[str]] = {}
    ids, townships = sorted(villages), sorted(set(villages.values()))
    for start in range(0, max(len(ids), len(townships)), chunk):
        rows = await session.exec(select(OfficialNumber.village_id, OfficialNumber.township_id, OfficialNumber.key)
                                  .where(or_(col(OfficialNumber.village_id).in_(ids[start:start + chunk]),
                                             col(OfficialNumber.township_id).in_(townships[start:start + chunk]))))
        for village_id, township_id, key in rows:
            if village_id is not None:
                found[village_id].add(key)
            elif township_id is not None:
                of_township.setdefault(township_id, set()).add(key)
    return {vid: frozenset(keys | of_township.get(villages[vid], set())) for vid, keys in found.items()}


async def supervision_phone(session: AsyncSession, village: Village) -> str | None:
    """The village's supervision line, or its township's, as written when it was set."""
    for number in await numbers(session, village):
        if number.kind == Kind.SUPERVISION:
            return number.number
    return None


async def _row(session: AsyncSession, kind: Kind, *, village_id: int | None = None,
               township_id: int | None = None) -> OfficialNumber | None:
    rows = await session.exec(select(OfficialNumber).where(
        OfficialNumber.kind == kind, OfficialNumber.village_id == village_id,
        OfficialNumber.township_id == township_id))
    return rows.first()


async def store(session: AsyncSession, kind: Kind, number: str | None, *, village: Village | None = None,
                township: Township | None = None, by: int | None = None) -> OfficialNumber | None:
    """Set (or with None, remove) one official number of a village or a township; no role check here."""
    session.info.pop(OFFICIAL_KEYS, None)  # read again by the next screening
    village_id, township_id = (village.id, None) if village else (None, township.id if township else None)
    row = await _row(session, kind, village_id=village_id, township_id=township_id)
    if number is None:
        if row is not None:
            await session.delete(row)
        return None
    key = checked_key(number)
    row = row or OfficialNumber(kind=kind, village_id=village_id, township_id=township_id, number="", key="")
    row.number, row.key, row.set_by, row.updated_at = number.strip(), key, by, utcnow()
    session.add(row)
    await session.flush()
    return row


async def set_for_village(session: AsyncSession, person: Person, village_id: int, kind: Kind, number: str | None,
                          *, admin: bool) -> Village:
    """/officialphone: the village's staff or a deployment admin (re-checked here, every time)."""
    village = await directory.village_by_id(session, village_id)
    if not admin:
        await directory.require(session, person.id or 0, Role.STAFF, village_id)
    await store(session, kind, number, village=village, by=person.id)
    return village


async def villages_to_set(session: AsyncSession, person: Person, *, admin: bool) -> list[Village]:
    """The villages whose numbers the person may set: an admin's are all of them."""
    if admin:
        return await directory.all_villages(session)
    return await directory.villages_where(session, person.id or 0, Role.STAFF)


async def of_township(session: AsyncSession, township_id: int) -> dict[str, str]:
    rows = await session.exec(select(OfficialNumber).where(OfficialNumber.township_id == township_id)
                              .order_by(col(OfficialNumber.kind)))
    return {n.kind: n.number for n in rows}


async def of_village(session: AsyncSession, village_id: int) -> dict[str, str]:
    rows = await session.exec(select(OfficialNumber).where(OfficialNumber.village_id == village_id)
                              .order_by(col(OfficialNumber.kind)))
    return {n.kind: n.number for n in rows}
