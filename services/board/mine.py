"""What a verified person sees of their own work in the Mini App: their villages' boards, their drafts, the
reviews waiting for them and what their villages owe. The person comes from init data the server verified;
every list re-checks the roles they hold now, as a button tap would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice
from services.board.visibility import Board, board_of
from services.deadlines.obligations import VillageDue, due_for
from services.errors import DomainError
from services.notices import drafts
from services.notices.review import waiting_for
from services.people import directory
from services.people.roles import Role
from services.policy import Policy


@dataclass
class Mine:
    name: str
    boards: list[Board] = field(default_factory=list)
    drafts: list[Notice] = field(default_factory=list)
    reviews: list[Notice] = field(default_factory=list)
    due: list[VillageDue] = field(default_factory=list)
    works: bool = False  # staff or a reviewer somewhere: their lists are shown
    village_names: dict[int, str] = field(default_factory=dict)


async def lists_for(session: AsyncSession, policy: Policy, tg_user_id: int, now: datetime) -> Mine | None:
    """None for someone the bot does not know: they see what everyone sees."""
    person = await directory.person_by_tg(session, tg_user_id)
    if person is None:
        return None
    villages = await directory.villages_of(session, person.id or 0)
    mine = Mine(person.name, [await board_of(session, v) for v in villages],
                village_names={v.id or 0: v.name for v in villages})
    staff_of = {v.id for v in await directory.villages_where(session, person.id or 0, Role.STAFF)}
    mine.drafts = [n for n in await drafts.drafts_of(session, person) if n.village_id in staff_of]
    mine.reviews = await waiting_for(session, person)
    try:
        mine.due = await due_for(session, policy, person, now)
    except DomainError:  # neither staff nor a reviewer anywhere: nothing is owed by them
        mine.due = []
    roles = await directory.active_roles(session, person.id or 0)
    mine.works = bool(roles & {Role.STAFF, Role.SECRETARY, Role.SUPERVISOR, Role.INSPECTOR})
    for notice in mine.reviews:
        mine.village_names.setdefault(notice.village_id, (await directory.village_by_id(session,
                                                                                    notice.village_id)).name)
    return mine
