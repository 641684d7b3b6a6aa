"""Posting proof (已张贴): staff hang the printed poster on the village's paper board and reply to the bot's
"published" message with a photo of it. The message names the notice; the person must be staff of its
village, now; the notice must still be the published version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice, OutboxMessage, Person, PostingProof, Village
from services.board import official
from services.board.visibility import Board, board_of
from services.errors import DomainError
from services.notices.workflow import State
from services.people import directory
from services.people.roles import Role

PUBLISHED_MESSAGE = "review_outcome"  # the author's "published" message carries the poster buttons


async def notice_of_message(session: AsyncSession, chat_id: int, message_id: int) -> Notice | None:
    """The notice whose "published" message this is, if the bot sent one with this id into this chat."""
    row = (await session.exec(select(OutboxMessage).where(
        OutboxMessage.chat_id == chat_id, OutboxMessage.message_id == message_id,
        OutboxMessage.template == PUBLISHED_MESSAGE).order_by(col(OutboxMessage.id).desc()))).first()
    if row is None or not row.context.get("published") or not row.context.get("notice_id"):
        return None
    return await session.get(Notice, int(row.context["notice_id"]))


@dataclass(frozen=True)
class Recorded:
    notice: Notice
    village: Village
    by: str  # the name the proof is shown under


async def record(session: AsyncSession, person: Person, chat_id: int, replied_to: int, file_id: str,
                 file_unique_id: str, now: datetime) -> Recorded:
    notice = await notice_of_message(session, chat_id, replied_to)
    if notice is None:
        raise DomainError("board.proof_where")
    await directory.require(session, person.id or 0, Role.STAFF, notice.village_id)
    if notice.state != State.PUBLISHED:
        raise DomainError("board.proof_not_published", title=notice.title)
    session.add(PostingProof(notice_id=notice.id or 0, person_id=person.id or 0, file_id=file_id,
                             file_unique_id=file_unique_id, at=now))
    await session.flush()
    return Recorded(notice, await village_of(session, notice), await official.display_name(session, person))


async def for_staff(session: AsyncSession, person: Person, notice_id: int) -> tuple[Notice, Board]:
    """A notice whose poster a person may ask the bot for (staff of its village, the published version),
    and the board it hangs on."""
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise DomainError("err.stale_button")
    await directory.require(session, person.id or 0, Role.STAFF, notice.village_id)
    if notice.state != State.PUBLISHED:
        raise DomainError("board.poster_not_published", title=notice.title)
    return notice, await board_of(session, await village_of(session, notice))


async def village_of(session: AsyncSession, notice: Notice) -> Village:
    return await directory.village_by_id(session, notice.village_id)
