"""Who acts: the person, their roles and their conversation state, read in ONE statement per update.

Every update needs the person (created on their first update) and aiogram reads the conversation state of
every update; /start, /help and every role check need the person's roles. Read one by one through the ORM
these were three statements, each several hops to the database driver's thread. Here they are one: a
one-row anchor outer-joined to the person, the conversation record of this chat and the person's
active and pending grants (with their village and township names). The ORM builds the person, so it sits
in the session's identity map; the conversation and the grants are read as columns (an ORM object would
cost building and tracking for rows only read here, or written by the FSM storage with Core statements). The FSM storage
(bot/pipeline/fsm_storage.py) and `services.people.directory` (memberships, holds) answer from these for
the rest of the update without another statement. Nothing is cached across updates: a role revoked
directly in the database counts from the next update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Select, String, and_, bindparam, literal_column, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.pipeline.fsm_storage import Conversation
from models import FsmRecord, Person, RoleGrant, Township, Village
from services.people import directory
from services.people.roles import Role

_ANCHOR = select(literal_column("1").label("one")).subquery("anchor")  # a constant: no parameter to type
_GrantVillage, _GrantTownship = aliased(Village), aliased(Township)


@dataclass
class Acting:
    person: Person
    conversation: Conversation | None  # None: no conversation in this chat


def _statement() -> Select[Any]:
    """Built once: only the parameters change, so SQLAlchemy compiles it once too."""
    # OR rather than IN: an IN list is expanded into the SQL on every execution, OR is compiled once.
    status = or_(col(RoleGrant.status) == "active", col(RoleGrant.status) == "pending")
    grants = and_(col(RoleGrant.person_id) == Person.id, status)
    return (
        select(Person, col(FsmRecord.key), col(FsmRecord.state), col(FsmRecord.data), col(RoleGrant.role),
               col(RoleGrant.status), col(RoleGrant.village_id), col(_GrantVillage.name),
               col(RoleGrant.township_id), col(_GrantTownship.name))
        .select_from(_ANCHOR)
        .outerjoin(Person, col(Person.tg_user_id) == bindparam("tg_user_id", type_=BigInteger))
        .outerjoin(FsmRecord, col(FsmRecord.key) == bindparam("fsm_key", type_=String))
        .outerjoin(RoleGrant, grants)
        .outerjoin(_GrantVillage, col(_GrantVillage.id) == RoleGrant.village_id)
        .outerjoin(_GrantTownship, col(_GrantTownship.id) == RoleGrant.township_id)
        .order_by(col(RoleGrant.id))
    )


_STATEMENT = _statement()


async def acting(session: AsyncSession, tg_user_id: int, name: str, username: str | None,
                 fsm_key: str | None) -> Acting:
    """The person (created, or renamed, when needed: the only writes), with their memberships remembered in
    the session and the conversation record `fsm_key` (None: the conversation is not kept in the database)."""
    params = {"tg_user_id": tg_user_id, "fsm_key": fsm_key or ""}
    rows = (await session.exec(_STATEMENT, params=params)).all()  # type: ignore[call-overload]
    person, key, state, data = rows[0][:4]
    conversation = None if key is None else Conversation(state, data)
    if person is None:
        person = directory.new_person(session, tg_user_id, name, username)
        await session.flush()
        directory.remember_memberships(session, person.id or 0, [])
        return Acting(person, conversation)
    directory.renamed(session, person, name, username)
    directory.remember_memberships(session, person.id or 0, [
        directory.Membership(Role(role), status, village, village_name, township, township_name)
        for *_, role, status, village, village_name, township, township_name in rows if role is not None])
    return Acting(person, conversation)
