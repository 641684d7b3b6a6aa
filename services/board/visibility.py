"""How a village's board is addressed and listed: public (the default), noindex, or reachable only through
its links (a random key in place of the village's code)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import BoardSetting, Township, Village
from services.errors import DomainError
from services.people import directory, onboarding

PUBLIC, NOINDEX, LINKS = "public", "noindex", "links"
VISIBILITIES = (PUBLIC, NOINDEX, LINKS)


class BoardNotFound(DomainError):
    """No board at this address (or not one the public may see): a page answers 404."""

    def __init__(self) -> None:
        super().__init__("board.not_found")


@dataclass(frozen=True)
class Board:
    village: Village
    township: Township
    visibility: str
    ref: str  # the path segment that names the board: the village's code, or its link key
    changed_at: datetime | None = None

    @property
    def listed(self) -> bool:
        """Shown on its township's page."""
        return self.visibility != LINKS

    @property
    def indexed(self) -> bool:
        """Search engines are welcome."""
        return self.visibility == PUBLIC


def _board(village: Village, township: Township, setting: BoardSetting | None) -> Board:
    visibility = setting.visibility if setting else PUBLIC
    ref = setting.link_key if setting and visibility == LINKS and setting.link_key else village.code
    return Board(village, township, visibility, ref, setting.updated_at if setting else None)


async def board_of(session: AsyncSession, village: Village) -> Board:
    township = await session.get(Township, village.township_id)
    assert township is not None  # a foreign key
    return _board(village, township, await session.get(BoardSetting, village.id))


async def board_ref(session: AsyncSession, village_id: int) -> str:
    """The path segment naming a village's board (for the link on every group post and the poster's QR)."""
    village = await session.get(Village, village_id)
    assert village is not None  # a foreign key
    setting = await session.get(BoardSetting, village_id)
    return setting.link_key if setting and setting.visibility == LINKS and setting.link_key else village.code


async def boards_of(session: AsyncSession, villages: Iterable[Village], township: Township) -> list[Board]:
    """One query for the settings of many villages of one township."""
    villages = list(villages)
    settings = {s.village_id: s for s in await session.exec(
        select(BoardSetting).where(col(BoardSetting.village_id).in_([v.id for v in villages])))}
    return [_board(v, township, settings.get(v.id or 0)) for v in villages]


async def board_by_ref(session: AsyncSession, ref: str) -> Board:
    """The board a public address names: a link key, or the code of a village whose board is not links-only.
    One query (it runs before every page)."""
    if not ref or len(ref) > 40:
        raise BoardNotFound()
    rows = (await session.exec(select(Village, Township, BoardSetting)
                               .join(Township, col(Township.id) == Village.township_id)
                               .outerjoin(BoardSetting, col(BoardSetting.village_id) == Village.id)
                               .where(or_(col(Village.code) == ref, col(BoardSetting.link_key) == ref)))).all()
    for row in rows:
        board = _board(*row)
        if board.ref == ref:  # not a links-only village asked for by its code
            return board
    raise BoardNotFound()


async def board_by_code(session: AsyncSession, code: str) -> Board:
    """A village's board by its code, whatever its visibility (for operators and staff, not the public)."""
    village = await directory.village_by_code(session, code)
    if village is None:
        raise BoardNotFound()
    return await board_of(session, village)


async def set_visibility(session: AsyncSession, village: Village, visibility: str, now: datetime) -> Board:
    """A links-only board gets a key the first time and keeps it (links already handed out keep working)."""
    if visibility not in VISIBILITIES:
        raise DomainError("board.bad_visibility", value=visibility[:20], expected=", ".join(VISIBILITIES))
    setting = await session.get(BoardSetting, village.id) or BoardSetting(village_id=village.id or 0)
    if visibility == LINKS and not setting.link_key:
        setting.link_key = secrets.token_urlsafe(12)  # 16 characters of A-Za-z0-9_-: unguessable
    setting.visibility, setting.updated_at = visibility, now
    session.add(setting)
    await session.flush()
    return await board_of(session, village)


async def boards_for(session: AsyncSession, person_id: int | None, chat_id: int | None = None) -> list[Board]:
    """/board: in a village's resident group, that village's board; in private, the boards of the villages
    where the person holds a role (none: an empty list, and the bot offers every township's)."""
    if chat_id is not None:
        village = await onboarding.village_of_chat(session, chat_id)
        return [await board_of(session, village)] if village is not None else []
    return [await board_of(session, v) for v in await directory.villages_of(session, person_id or 0)]
