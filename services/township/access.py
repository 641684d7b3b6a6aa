"""Who may look at and act on which township: an active inspector grant on that township, nothing else."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Township, Village
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
