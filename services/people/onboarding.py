"""Onboarding: role invites, binding groups, residents joining and being confirmed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import BoundChat, Invite, Person, RoleGrant, Township, Village
from services import privacy
from services.errors import DomainError, NotAllowed
from services.outbox import queue_to_person
from services.people import directory
from services.people.roles import Role

INVITE_PREFIX = "i_"
JOIN_PREFIX = "j_"


def new_token() -> str:
    # 16 random bytes -> 22 url-safe characters: fits Telegram's 64-character deep-link payload.
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class InviteTarget:
    village: Village
    township: Township


async def invite_target(session: AsyncSession, *, village_id: int | None = None, code: str | None = None
                        ) -> InviteTarget:
    """The village an admin is making an invite for (by id or code), with its township."""
    village = await directory.village_by_code(session, code) if code else None
    if village_id is not None:
        village = await directory.village_by_id(session, village_id)
    if village is None:
        raise DomainError("err.no_village")
    return InviteTarget(village, await directory.township_of(session, village))


@dataclass(frozen=True)
class InviteOutcome:
    invite: Invite
    role: Role
    place: str  # the village's name; for an inspector, the township's


async def create_invite(
    session: AsyncSession, village_id: int, role: Role, created_by: int | None, now: datetime, ttl_days: int
) -> InviteOutcome:
    """An invite for one role in one village; an inspector invite (made from any of its villages) grants
    the inspector role in the village's township. Residents join through /join, not by invite."""
    if role is Role.RESIDENT:
        raise DomainError("err.invite_role", role=role.value)
    village = await directory.village_by_id(session, village_id)
    invite = Invite(token=new_token(), role=role, village_id=village_id, created_by=created_by,
                    expires_at=now + timedelta(days=ttl_days))
    session.add(invite)
    await session.flush()
    return InviteOutcome(invite, role, await _place(session, village, role))


async def _place(session: AsyncSession, village: Village, role: Role) -> str:
    if role is not Role.INSPECTOR:
        return village.name
    return (await directory.township_of(session, village)).name


async def redeem_invite(session: AsyncSession, token: str, person: Person, now: datetime) -> InviteOutcome:
    """Single use even when two people open the link at once: the UPDATE decides who was first."""
    invite = (await session.exec(select(Invite).where(Invite.token == token))).first()
    if invite is None:
        raise DomainError("err.invite_unknown")
    if invite.used_by is not None:
        raise DomainError("err.invite_used")
    if invite.expires_at <= now:
        raise DomainError("err.invite_expired")
    claimed = await session.exec(
        update(Invite).where(col(Invite.id) == invite.id, col(Invite.used_by).is_(None))
        .values(used_by=person.id, used_at=now)
    )
    if claimed.rowcount != 1:
        raise DomainError("err.invite_used")
    role, village = Role(invite.role), await directory.village_by_id(session, invite.village_id)
    if role is Role.INSPECTOR:
        await directory.grant_role(session, person.id or 0, role, township_id=village.township_id)
    else:
        await directory.grant_role(session, person.id or 0, role, village_id=village.id)
    return InviteOutcome(invite, role, await _place(session, village, role))


@dataclass(frozen=True)
class BindResult:
    chat: BoundChat
    village: Village | None
    township: Township | None


async def bind_residents_group(
    session: AsyncSession, person: Person, village_id: int, chat_id: int, title: str, can_pin: bool
) -> BindResult:
    await directory.require(session, person.id or 0, Role.STAFF, village_id)
    await _refuse_if_bound_elsewhere(session, chat_id, village_id=village_id)
    chat = await _upsert_chat(session, chat_id, title, can_pin, person.id)
    chat.purpose, chat.village_id, chat.township_id = "residents", village_id, None
    session.add(chat)
    return BindResult(chat, await directory.village_by_id(session, village_id), None)


async def bind_filing_group(
    session: AsyncSession, person: Person, township_id: int, chat_id: int, title: str, can_pin: bool
) -> BindResult:
    inspector_of = {t.id for t in await directory.townships_where_inspector(session, person.id or 0)}
    if township_id not in inspector_of:
        raise NotAllowed("err.not_role", role=Role.INSPECTOR.value)
    await _refuse_if_bound_elsewhere(session, chat_id, township_id=township_id)
    chat = await _upsert_chat(session, chat_id, title, can_pin, person.id)
    chat.purpose, chat.village_id, chat.township_id = "filing", None, township_id
    session.add(chat)
    return BindResult(chat, None, await session.get(Township, township_id))


async def _chat_row(session: AsyncSession, chat_id: int) -> BoundChat | None:
    return (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat_id))).first()


async def _place_of(session: AsyncSession, chat: BoundChat) -> str | None:
    """The name of the village or township the chat serves, or None when it serves none."""
    if chat.village_id is not None:
        return (await directory.village_by_id(session, chat.village_id)).name
    if chat.township_id is not None:
        township = await session.get(Township, chat.township_id)
        return township.name if township else None
    return None


async def _refuse_if_bound_elsewhere(session: AsyncSession, chat_id: int, *, village_id: int | None = None,
                                     township_id: int | None = None) -> None:
    """A group serves one village (or is one township's filing group): binding it somewhere else would
    silently stop that village's broadcasts there, so it must be unbound first, by those it belongs to.
    Binding it again to the same place only refreshes its title and rights."""
    chat = await _chat_row(session, chat_id)
    if chat is None or (chat.village_id, chat.township_id) == (village_id, township_id):
        return
    place = await _place_of(session, chat)
    if place is not None:
        raise DomainError("bind.elsewhere", place=place)


async def unbind_chat(session: AsyncSession, person: Person, chat_id: int, is_admin: bool) -> str:
    """Staff of the village (for a filing group: an inspector of the township) or a deployment admin
    releases a group; nothing more is sent there. Returns the name of the place it served."""
    chat = await _chat_row(session, chat_id)
    place = await _place_of(session, chat) if chat is not None else None
    if chat is None or place is None:
        raise DomainError("unbind.not_bound")
    if not is_admin and chat.village_id is not None:
        await directory.require(session, person.id or 0, Role.STAFF, chat.village_id)
    elif not is_admin:
        inspector_of = {t.id for t in await directory.townships_where_inspector(session, person.id or 0)}
        if chat.township_id not in inspector_of:
            raise NotAllowed("err.not_role", role=Role.INSPECTOR.value)
    chat.village_id, chat.township_id, chat.active, chat.inactive_reason = None, None, False, "unbound"
    session.add(chat)
    return place


async def _upsert_chat(
    session: AsyncSession, chat_id: int, title: str, can_pin: bool, person_id: int | None
) -> BoundChat:
    chat = await _chat_row(session, chat_id) or BoundChat(chat_id=chat_id)
    # A group's title is shown to staff: a personal number in it is masked.
    chat.title, chat.can_pin, chat.active, chat.inactive_reason = privacy.mask_all(title[:255]), can_pin, True, None
    chat.bound_by = person_id
    session.add(chat)
    await session.flush()
    return chat


async def village_of_chat(session: AsyncSession, chat_id: int) -> Village | None:
    chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat_id))).first()
    if chat is None or chat.village_id is None:
        return None
    return await session.get(Village, chat.village_id)


async def place_of_chat(session: AsyncSession, chat_id: int) -> str | None:
    """The name of what a group serves (its village, or for a filing group its township), or None when unbound."""
    chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat_id))).first()
    if chat is None or not chat.active:
        return None
    if chat.village_id is not None:
        village = await session.get(Village, chat.village_id)
        return village.name if village else None
    township = await session.get(Township, chat.township_id) if chat.township_id else None
    return township.name if township else None


async def request_join(session: AsyncSession, person: Person, village_id: int) -> RoleGrant:
    """A resident asks to join; staff of the village hear of it with approve/decline buttons."""
    village = await directory.village_by_id(session, village_id)
    existing = (await session.exec(select(RoleGrant).where(
        RoleGrant.person_id == person.id, RoleGrant.role == Role.RESIDENT, RoleGrant.village_id == village_id,
    ))).first()
    if existing is not None and existing.status == "active":
        raise DomainError("err.already_resident", village=village.name)
    if existing is not None and existing.status == "pending":
        raise DomainError("err.join_pending", village=village.name)
    grant = await directory.grant_role(session, person.id or 0, Role.RESIDENT, village_id=village_id,
                                       status="pending")
    for staff in await directory.people_with_role(session, village_id, Role.STAFF):
        queue_to_person(session, staff, "join_request", {"name": person.name, "village": village.name},
                        keyboard={"name": "join_decision", "grant_id": grant.id}, village_id=village_id)
    return grant


async def pending_joins(session: AsyncSession, staff: Person) -> list[tuple[RoleGrant, Person, Village]]:
    village_ids = [v.id for v in await directory.villages_where(session, staff.id or 0, Role.STAFF)]
    rows = await session.exec(
        select(RoleGrant, Person, Village)
        .join(Person, col(Person.id) == RoleGrant.person_id)
        .join(Village, col(Village.id) == RoleGrant.village_id)
        .where(RoleGrant.role == Role.RESIDENT, RoleGrant.status == "pending",
               col(RoleGrant.village_id).in_(village_ids))
        .order_by(col(RoleGrant.id))
    )
    return list(rows)


async def decide_join(
    session: AsyncSession, staff: Person, grant_id: int, approve: bool, now: datetime
) -> tuple[RoleGrant, Person]:
    grant = await session.get(RoleGrant, grant_id)
    if grant is None or grant.role != Role.RESIDENT or grant.village_id is None:
        raise DomainError("err.stale_button")
    await directory.require(session, staff.id or 0, Role.STAFF, grant.village_id)
    status = "active" if approve else "declined"
    decided = await session.exec(
        update(RoleGrant).where(col(RoleGrant.id) == grant_id, col(RoleGrant.status) == "pending")
        .values(status=status, decided_by=staff.id, decided_at=now)
    )
    if decided.rowcount != 1:
        raise DomainError("err.already_decided")
    await session.refresh(grant)
    resident = await session.get(Person, grant.person_id)
    assert resident is not None
    village = await directory.village_by_id(session, grant.village_id)
    queue_to_person(session, resident, "join_approved" if approve else "join_declined",
                    {"village": village.name}, village_id=village.id)
    return grant, resident


async def chat_lost(session: AsyncSession, chat_id: int, reason: str) -> BoundChat | None:
    """The bot was removed from (or blocked in) a bound chat: stop sending there and tell the staff."""
    chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat_id))).first()
    if chat is None or not chat.active:
        return chat
    chat.active, chat.inactive_reason = False, reason[:255]
    session.add(chat)
    if chat.village_id is not None:
        for staff in await directory.people_with_role(session, chat.village_id, Role.STAFF):
            queue_to_person(session, staff, "chat_lost", {"title": chat.title, "chat_id": chat.chat_id},
                            village_id=chat.village_id)
    return chat


async def migrate_chat(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == old_chat_id))).first()
    if chat is not None:
        chat.chat_id = new_chat_id
        session.add(chat)


async def chat_rights_changed(session: AsyncSession, chat_id: int, can_pin: bool, title: str) -> None:
    chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat_id))).first()
    if chat is not None:
        chat.can_pin, chat.active, chat.inactive_reason = can_pin, True, None
        chat.title = privacy.mask_all(title[:255]) or chat.title
        session.add(chat)


async def remember_title(session: AsyncSession, chat_id: int, title: str | None) -> None:
    """Groups imported from a directory file arrive without a title; the first message sent there tells it."""
    if not title:
        return
    # one UPDATE that changes nothing when the title is known (the delivery worker calls this for every group
    # message it sends): no read of the chat first
    title = title[:255]
    await session.exec(update(BoundChat).where(col(BoundChat.chat_id) == chat_id,
                                               or_(col(BoundChat.title).is_(None), col(BoundChat.title) != title))
                       .values(title=title))
