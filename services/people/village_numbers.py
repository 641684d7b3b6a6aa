"""The directory in the bot: a new township's name, and a village's official numbers, set by its staff or an
admin: the population (petitions need ceil(population / 10) resident signatures) and the number of villager
representatives (ceil(representatives / 5) of theirs). While the population is unknown (0) no petition opens:
a threshold is never computed from zero."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Person, Township, Village
from services.errors import DomainError
from services.outbox import queue_to_person
from services.people import directory
from services.people.names import NAME_MAX
from services.people.roles import Role, with_finance_group

FIELDS = ("population", "representatives")
LIMIT = 10_000_000  # larger than any village or community: a typo, not a number


def population_known(village: Village) -> bool:
    return village.population > 0


async def villages_to_manage(session: AsyncSession, person: Person, is_admin: bool) -> list[Village]:
    if is_admin:
        return await directory.all_villages(session)
    return await directory.villages_where(session, person.id or 0, Role.STAFF)


async def check_manager(session: AsyncSession, person: Person, village_id: int, is_admin: bool) -> Village:
    if not is_admin:
        await directory.require(session, person.id or 0, Role.STAFF, village_id)
    return await directory.village_by_id(session, village_id)


def parse_count(field: str, raw: str | None) -> int:
    """A whole number; the population at least 1 (0 would mean "unknown"), representatives 0 or more."""
    if field not in FIELDS:
        raise DomainError("err.stale_button")
    text = (raw or "").strip().replace(",", "").replace("，", "")
    if not text.lstrip("-").isdigit():
        raise DomainError("village.not_a_number", value=(raw or "").strip()[:20])
    value = int(text)
    low = 1 if field == "population" else 0
    if value < low or value > LIMIT:
        raise DomainError(f"village.{field}_range", value=value, limit=LIMIT)
    return value


async def set_number(session: AsyncSession, person: Person, village_id: int, field: str, raw: str | None,
                     is_admin: bool) -> Village:
    village = await check_manager(session, person, village_id, is_admin)
    setattr(village, field, parse_count(field, raw))
    session.add(village)
    return village


async def set_finance_review(session: AsyncSession, person: Person, village_id: int, on: bool,
                             is_admin: bool) -> Village:
    """The democratic finance group's stage (seed 003) on or off in the village's review chain; notices
    already in review keep the chain they were submitted with."""
    village = await check_manager(session, person, village_id, is_admin)
    village.review_chain = with_finance_group(list(village.review_chain), on)
    session.add(village)
    return village


async def finance_unstaffed(session: AsyncSession, village: Village) -> bool:
    """The stage is on but nobody holds it: finance notices cannot be submitted (services.notices.duties)."""
    return Role.FINANCE_GROUP.value in village.review_chain and \
        not await directory.people_with_role(session, village.id or 0, Role.FINANCE_GROUP)


def tell_staff_population_missing(session: AsyncSession, staff: list[Person], village: Village) -> None:
    for person in staff:
        queue_to_person(session, person, "population_missing", {"village": village.name}, village_id=village.id)


def unnamed(township: Township) -> bool:
    """/newvillage creates a missing township under its code; it still needs the name notices print."""
    return township.name == township.code


async def name_township(session: AsyncSession, township_id: int, raw: str | None) -> Township:
    name = " ".join((raw or "").split())
    if not name or len(name) > NAME_MAX or not any(c.isalpha() for c in name) or name.startswith("/"):
        raise DomainError("township.name_bad", limit=NAME_MAX)
    township = await session.get(Township, township_id)
    if township is None:
        raise DomainError("err.stale_button")
    township.name = name
    session.add(township)
    return township
