"""Directory use cases: people, roles, villages and bound chats."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as SyncSession
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import BoundChat, Person, RoleGrant, Township, Village
from models.db import upsert
from models.types import utcnow
from services import privacy
from services.errors import DomainError, NotAllowed
from services.people.roles import Role


@dataclass(frozen=True)
class Membership:
    role: Role
    status: str
    village_id: int | None
    village_name: str | None
    township_id: int | None
    township_name: str | None


KNOWN = "cunwu.memberships"  # session.info: person id -> their memberships, as read in this session


def remember_memberships(session: AsyncSession, person_id: int, found: Iterable[Membership]) -> None:
    """Memberships read by someone else in this session (the update's first statement, bot/pipeline/acting.py):
    `memberships` and `holds` answer from them until a role changes in this session. Every update reads
    them afresh, so a role revoked elsewhere (`cunwu admin import`, another instance) counts from the next one."""
    session.info.setdefault(KNOWN, {})[person_id] = list(found)


@event.listens_for(SyncSession, "before_flush")
def _forget_before_flush(session: SyncSession, _context: Any, _instances: Any) -> None:
    if KNOWN in session.info and any(isinstance(o, RoleGrant) for o in (*session.new, *session.dirty,
                                                                        *session.deleted)):
        del session.info[KNOWN]


@event.listens_for(SyncSession, "do_orm_execute")
def _forget_on_write(state: ORMExecuteState) -> None:
    """Any statement that is not a SELECT (an UPDATE of role_grant by onboarding, say) may change roles."""
    if not state.is_select:
        state.session.info.pop(KNOWN, None)


@lru_cache(maxsize=1024)
def _shown(name: str) -> str:
    """A name is shown to other people (reviewers, staff), so a personal number in it is masked. Every update
    carries the sender's Telegram name (`renamed`): the screen of a name seen lately is remembered."""
    return privacy.mask_all(name[:200])


def new_person(session: AsyncSession, tg_user_id: int, name: str, username: str | None) -> Person:
    person = Person(tg_user_id=tg_user_id, name=_shown(name), username=username)
    session.add(person)
    return person


def renamed(session: AsyncSession, person: Person, name: str, username: str | None) -> None:
    """Telegram tells the current name with every update; it is written only when it changed."""
    name = person.name if person.name_chosen else _shown(name)  # a chosen name (/name, the directory file)
    if (person.name, person.username) != (name, username):           # outlives nickname changes
        person.name, person.username = name, username
        session.add(person)


async def get_or_create_person(
    session: AsyncSession, tg_user_id: int, name: str, username: str | None
) -> Person:
    """Writes only for a newcomer or a changed name, not on every update. A name is shown to other people
    (reviewers, staff), so a personal number in it is masked (services.privacy)."""
    name = privacy.mask_all(name[:200])
    person = (await session.exec(select(Person).where(Person.tg_user_id == tg_user_id))).first()
    if person is None:
        person = new_person(session, tg_user_id, name, username)
        await session.flush()
    else:
        renamed(session, person, name, username)
    return person


async def set_language(session: AsyncSession, person: Person, language: str) -> None:
    """The person's own choice (/lang); every later message to them is in it."""
    person.language = language
    session.add(person)


async def person_by_tg(session: AsyncSession, tg_user_id: int) -> Person | None:
    return (await session.exec(select(Person).where(Person.tg_user_id == tg_user_id))).first()


def _known(session: AsyncSession, person_id: int) -> list[Membership] | None:
    """The memberships remembered in this session, unless a role change waits to be flushed (the flush forgets
    them: `_forget_before_flush`)."""
    known: list[Membership] | None = session.info.get(KNOWN, {}).get(person_id)
    if known is None or any(isinstance(o, RoleGrant) for o in (*session.new, *session.dirty, *session.deleted)):
        return None
    return known


async def memberships(session: AsyncSession, person_id: int) -> list[Membership]:
    """Active and pending grants, first granted first."""
    known = _known(session, person_id)
    if known is not None:
        return list(known)
    rows = await session.exec(
        select(RoleGrant, Village, Township)
        .outerjoin(Village, col(Village.id) == RoleGrant.village_id)
        .outerjoin(Township, col(Township.id) == RoleGrant.township_id)
        .where(RoleGrant.person_id == person_id, col(RoleGrant.status).in_(["active", "pending"]))
        .order_by(col(RoleGrant.id))
    )
    found = [membership(g, v.name if v else None, t.name if t else None) for g, v, t in rows]
    remember_memberships(session, person_id, found)
    return found


def membership(grant: RoleGrant, village_name: str | None, township_name: str | None) -> Membership:
    return Membership(Role(grant.role), grant.status, grant.village_id, village_name, grant.township_id,
                      township_name)


async def active_roles(session: AsyncSession, person_id: int) -> set[str]:
    """The role values the person actively holds anywhere."""
    return {m.role.value for m in await memberships(session, person_id) if m.status == "active"}


async def holds(session: AsyncSession, person_id: int, role: Role, village_id: int) -> bool:
    """True when the person actively holds `role` in the village (inspectors: in its township)."""
    held = [m for m in await memberships(session, person_id) if m.role is role and m.status == "active"]
    if role is not Role.INSPECTOR:
        return any(m.village_id == village_id for m in held)
    if not held:
        return False
    village = await session.get(Village, village_id)
    return village is not None and any(m.township_id == village.township_id for m in held)


async def require(session: AsyncSession, person_id: int, role: Role, village_id: int) -> None:
    if not await holds(session, person_id, role, village_id):
        raise NotAllowed("err.not_role", role=role.value)


_VILLAGES_WHERE = (  # built once: only the parameters change
    select(Village)
    .join(RoleGrant, col(RoleGrant.village_id) == Village.id)
    .where(col(RoleGrant.person_id) == bindparam("person_id"), col(RoleGrant.role) == bindparam("role"),
           RoleGrant.status == "active")
    .order_by(col(Village.id))
)


def holds_anywhere(session: AsyncSession, person_id: int, role: Role) -> bool | None:
    """Whether the person actively holds `role` in some village, from the memberships this session knows
    (None: not known, ask the database)."""
    known = _known(session, person_id)
    if known is None:
        return None
    return any(m.role is role and m.status == "active" and m.village_id is not None for m in known)


async def villages_where(session: AsyncSession, person_id: int, role: Role) -> list[Village]:
    if holds_anywhere(session, person_id, role) is False:
        return []  # the update's memberships say so: no statement
    rows = await session.exec(_VILLAGES_WHERE, params={"person_id": person_id, "role": role})
    return list(rows)


async def townships_where_inspector(session: AsyncSession, person_id: int) -> list[Township]:
    rows = await session.exec(
        select(Township)
        .join(RoleGrant, col(RoleGrant.township_id) == Township.id)
        .where(RoleGrant.person_id == person_id, RoleGrant.role == Role.INSPECTOR,
               RoleGrant.status == "active")
        .order_by(col(Township.id))
    )
    return list(rows)


async def grant_role(
    session: AsyncSession, person_id: int, role: Role, *, village_id: int | None = None,
    township_id: int | None = None, status: str = "active",
) -> RoleGrant:
    """Idempotent: an existing grant of the same role and scope is reactivated, not duplicated."""
    existing = (await session.exec(select(RoleGrant).where(
        RoleGrant.person_id == person_id, RoleGrant.role == role,
        RoleGrant.village_id == village_id, RoleGrant.township_id == township_id,
    ))).first()
    grant = existing or RoleGrant(person_id=person_id, role=role, village_id=village_id,
                                  township_id=township_id)
    grant.status = status
    session.add(grant)
    await session.flush()
    return grant


async def people_with_role(session: AsyncSession, village_id: int, role: Role) -> list[Person]:
    if role is Role.INSPECTOR:
        village = await session.get(Village, village_id)
        scope = RoleGrant.township_id == (village.township_id if village else -1)
    else:
        scope = RoleGrant.village_id == village_id
    rows = await session.exec(
        select(Person).join(RoleGrant, col(RoleGrant.person_id) == Person.id)
        .where(RoleGrant.role == role, RoleGrant.status == "active", scope).order_by(col(Person.id))
    )
    return list(rows)


async def village_by_id(session: AsyncSession, village_id: int) -> Village:
    village = await session.get(Village, village_id)
    if village is None:
        raise DomainError("err.no_village")
    return village


async def township_of(session: AsyncSession, village: Village) -> Township:
    township = await session.get(Township, village.township_id)
    assert township is not None  # a foreign key
    return township


async def village_by_code(session: AsyncSession, code: str) -> Village | None:
    return (await session.exec(select(Village).where(Village.code == code))).first()


async def create_village(
    session: AsyncSession, township_code: str, code: str, name: str, *, kind: str = "village",
    population: int = 0, representatives: int = 0, language: str = "zh",
) -> Village:
    """`language`: the village's own (its petition posts; the default issuing unit's wording)."""
    township = await _township_for_code(session, township_code)
    if await village_by_code(session, code) is not None:
        raise DomainError("err.village_exists", code=code)
    village = Village(township_id=township.id or 0, code=code, name=name, kind=kind, language=language,
                      population=population, representatives=representatives)
    session.add(village)
    await session.flush()
    return village


async def _township_for_code(session: AsyncSession, code: str) -> Township:
    """The township with this code, created if missing. Two admins creating the first two villages of one
    township at once (two webhook instances) must not collide: INSERT ... ON CONFLICT DO NOTHING waits for
    the other transaction and then leaves its row alone."""
    insert = upsert(session.get_bind().dialect.name)
    await session.exec(insert(Township).values(
        code=code, name=code, created_at=utcnow()).on_conflict_do_nothing(index_elements=["code"]))
    return (await session.exec(select(Township).where(Township.code == code))).one()


async def bound_chats(session: AsyncSession, village_id: int, *, active_only: bool = True) -> list[BoundChat]:
    query = select(BoundChat).where(BoundChat.village_id == village_id, BoundChat.purpose == "residents")
    if active_only:
        query = query.where(BoundChat.active == True)  # noqa: E712
    return list(await session.exec(query.order_by(col(BoundChat.id))))


async def all_villages(session: AsyncSession) -> list[Village]:
    return list(await session.exec(select(Village).order_by(col(Village.township_id), col(Village.id))))


async def villages_of(session: AsyncSession, person_id: int) -> list[Village]:
    """Villages where the person holds any active role, first granted first."""
    rows = await session.exec(
        select(Village).join(RoleGrant, col(RoleGrant.village_id) == Village.id)
        .where(RoleGrant.person_id == person_id, RoleGrant.status == "active").order_by(col(RoleGrant.id))
    )
    seen: dict[int, Village] = {}
    for village in rows:
        seen.setdefault(village.id or 0, village)
    return list(seen.values())
