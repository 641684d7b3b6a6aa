"""Who may look at and act on which township: an active inspector grant on that township, nothing else.

The county's view: the county-level admins (the bot's admins, ADMIN_IDS, handed in as `county`: Telegram user
ids) may look at every township, its ranking and its villages, but act on none (urging, rectification and
inspections stay with the township's inspectors). Anyone else asking for the county's view, or for a township
they do not inspect, gets the same refusal as for one that does not exist."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Person, Township, Village
from services.errors import DomainError, NotAllowed
from services.people import directory
from services.people.roles import Role


async def townships_of(session: AsyncSession, person_id: int) -> list[Township]:
    townships = await directory.townships_where_inspector(session, person_id)
    if not townships:
        raise NotAllowed("err.not_role", role=Role.INSPECTOR.value)
    return townships


async def township(session: AsyncSession, person_id: int, township_id: int) -> Township:
    """The township, when the person inspects it; otherwise the same refusal as for one that does not exist."""
    for found in await townships_of(session, person_id):
        if found.id == township_id:
            return found
    raise NotAllowed("err.not_role", role=Role.INSPECTOR.value)


async def village(session: AsyncSession, person_id: int, village_id: int) -> tuple[Township, Village]:
    found = await session.get(Village, village_id)
    if found is None:
        raise DomainError("err.no_village")
    return await township(session, person_id, found.township_id), found


async def village_by_code(session: AsyncSession, person_id: int, code: str) -> tuple[Township, Village]:
    found = await directory.village_by_code(session, code)
    if found is None:
        raise DomainError("err.no_village")
    return await village(session, person_id, found.id or 0)


COUNTY = "county"  # the county-level admin, as the refusal names the role


def is_county(person: Person, county: Collection[int]) -> bool:
    return person.tg_user_id in county


async def may_sign_in(session: AsyncSession, person: Person, county: Collection[int]) -> None:
    """The console is for inspectors and the county-level admins; anyone else is refused."""
    if not is_county(person, county):
        await townships_of(session, person.id or 0)


async def county_townships(session: AsyncSession, person: Person, county: Collection[int]) -> list[Township]:
    """Every township, for a county-level admin; anyone else is refused (a township's inspector included)."""
    if not is_county(person, county):
        raise NotAllowed("err.not_role", role=COUNTY)
    return list(await session.exec(select(Township).order_by(col(Township.id))))


async def township_to_view(session: AsyncSession, person: Person, county: Collection[int], code: str) -> Township:
    """A township by its code, for its inspectors and the county-level admins; "no such village" otherwise."""
    found = await county_townships(session, person, county) if is_county(person, county) else \
        await townships_of(session, person.id or 0)
    for township in found:
        if township.code == code:
            return township
    raise DomainError("err.no_village")


async def village_to_view(session: AsyncSession, person: Person, county: Collection[int],
                          code: str) -> tuple[Township, Village, bool]:
    """A village by its code with its township, and whether the person may act on it (its inspector)."""
    found = await directory.village_by_code(session, code)
    if found is None:
        raise DomainError("err.no_village")
    for township in await directory.townships_where_inspector(session, person.id or 0):
        if township.id == found.township_id:
            return township, found, True
    if is_county(person, county):
        theirs = await session.get(Township, found.township_id)
        if theirs is not None:
            return theirs, found, False
    raise DomainError("err.no_village")
