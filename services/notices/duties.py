"""Separation of duties: nobody approves their own work, and one person decides one stage of a notice version.

A notice's review chain (e.g. secretary, then supervisor) must be decided by people other than its author,
and by a different person at each stage: a person holding staff, secretary and supervisor roles cannot draft,
approve and publish alone. `missing_roles` says which stages a village cannot staff that way (asked when a
notice is submitted, and by `cunwu admin import` for every village).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice, Person, ReviewDecision, Village
from services.errors import DomainError, NotAllowed
from services.people import directory
from services.people.roles import Role


def unstaffed(chain: Sequence[Role], holders: dict[Role, set[int]], author_id: int | None) -> list[Role]:
    """The stages of `chain` that cannot each get a different person other than the author: the roles left
    over by a largest assignment of distinct people to stages (a bipartite matching; chains are short)."""
    assigned: dict[int, int] = {}  # person id -> stage index

    def place(stage: int, seen: set[int]) -> bool:
        for person in sorted(holders.get(chain[stage], set()) - {author_id}):
            if person in seen:
                continue
            seen.add(person)
            if person not in assigned or place(assigned[person], seen):
                assigned[person] = stage
                return True
        return False

    placed = [place(stage, set()) for stage in range(len(chain))]
    return [role for role, ok in zip(chain, placed, strict=True) if not ok]


async def _holders(session: AsyncSession, village_id: int, roles: set[Role]) -> dict[Role, set[int]]:
    return {role: {p.id or 0 for p in await directory.people_with_role(session, village_id, role)} for role in roles}


async def missing_roles(session: AsyncSession, village: Village, author_id: int | None,
                        chain: Sequence[str] | None = None) -> list[Role]:
    """The review roles a notice by `author_id` cannot have decided by distinct people other than its author."""
    stages = [Role(r) for r in (chain if chain is not None else village.review_chain)]
    return unstaffed(stages, await _holders(session, village.id or 0, set(stages)), author_id)


async def require_staffed(session: AsyncSession, village: Village, author_id: int | None,
                          chain: Sequence[str] | None = None) -> None:
    """`chain`: the notice's own stages (a non-finance notice skips the finance group's), else the village's."""
    missing = await missing_roles(session, village, author_id, chain)
    if missing:
        raise DomainError("duties.chain_unstaffed", roles=[role.value for role in missing])


async def village_warnings(session: AsyncSession) -> list[tuple[Village, Person | None, list[Role]]]:
    """Villages whose chain a staff author cannot get decided by distinct people: (village, the author, or None
    when the village has no staff at all, the missing roles). `cunwu admin import` prints them."""
    warnings: list[tuple[Village, Person | None, list[Role]]] = []
    for village in await directory.all_villages(session):
        staff = await directory.people_with_role(session, village.id or 0, Role.STAFF)
        stages = [Role(r) for r in village.review_chain]
        holders = await _holders(session, village.id or 0, set(stages))
        if not staff:
            warnings.append((village, None, [Role.STAFF]))
        for author in staff:
            missing = unstaffed(stages, holders, author.id)
            if missing:
                warnings.append((village, author, missing))
    return warnings


async def check_decider(session: AsyncSession, reviewer: Person, notice: Notice, version: int, stage: int) -> None:
    """The author decides no stage; a person who decided one stage of this version decides no other."""
    if notice.author_id == reviewer.id:
        raise NotAllowed("duties.own_notice")
    earlier = await session.exec(select(ReviewDecision.stage).where(
        ReviewDecision.notice_id == notice.id, ReviewDecision.version == version,
        ReviewDecision.person_id == reviewer.id, col(ReviewDecision.stage) != stage))
    if earlier.first() is not None:
        raise NotAllowed("duties.one_stage")


def check_not_author(person: Person, author_id: int | None, key: str = "duties.own_notice") -> None:
    if author_id is not None and person.id == author_id:
        raise NotAllowed(key)
