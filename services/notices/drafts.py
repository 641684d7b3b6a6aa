"""A notice's rows while it is drafted: creating, editing, attachments, the audit log, withdrawing and
discarding. Every state change goes through services.notices.workflow and is written to the audit log in the
same transaction. The privacy gate is in services.notices.screening, the review chain in services.notices.review.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Attachment, AuditEntry, Notice, Person, Village
from services.errors import DomainError
from services.notices.workflow import EDITABLE, Action, State, TransitionRefused, transition
from services.outbox import require_clean
from services.people import directory
from services.people.roles import Role

TITLE_MAX = 200
BODY_MAX = 60_000
REASON_MAX = 1_000
INVISIBLE = set("\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e")


def clean_text(value: str | None, limit: int, *, too_long: str = "notice.too_long") -> str:
    """Strip; refuse empty (also whitespace- or invisible-only) and over-long input."""
    text = (value or "").strip()
    if not any(ch.isprintable() and not ch.isspace() and ch not in INVISIBLE for ch in text):
        raise DomainError("notice.empty")
    if len(text) > limit:
        raise DomainError(too_long, limit=limit, length=len(text))
    return text


async def audit(session: AsyncSession, notice: Notice, person_id: int | None, action: Action, before: str,
                now: datetime, reason: str | None = None) -> None:
    session.add(AuditEntry(notice_id=notice.id or 0, person_id=person_id, action=action.value, from_state=before,
                           to_state=notice.state, version=notice.version, stage=notice.stage, reason=reason, at=now))


async def move(session: AsyncSession, notice: Notice, action: Action, person_id: int | None, now: datetime,
               reason: str | None = None) -> None:
    before = notice.state
    try:
        notice.state = transition(before, action)
    except TransitionRefused as error:
        raise DomainError("notice.not_now") from error
    notice.updated_at = now
    session.add(notice)
    await session.flush()
    await audit(session, notice, person_id, action, before, now, reason)


async def get(session: AsyncSession, notice_id: int) -> Notice:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise DomainError("err.stale_button")
    return notice


async def require_author(session: AsyncSession, person: Person, notice: Notice) -> None:
    if notice.author_id != person.id:
        raise DomainError("notice.not_yours")
    await directory.require(session, person.id or 0, Role.STAFF, notice.village_id)


async def editable(session: AsyncSession, person: Person, notice_id: int) -> Notice:
    notice = await get(session, notice_id)
    await require_author(session, person, notice)
    if notice.state not in EDITABLE:
        raise DomainError("notice.not_editable")
    return notice


async def create_draft(session: AsyncSession, author: Person, village_id: int, item_id: str | None,
                       period: str | None, now: datetime, *, obligation_id: int | None = None,
                       nothing_to_disclose: bool = False) -> Notice:
    await directory.require(session, author.id or 0, Role.STAFF, village_id)
    notice = Notice(village_id=village_id, author_id=author.id or 0, item_id=item_id, period=period,
                    obligation_id=obligation_id, nothing_to_disclose=nothing_to_disclose,
                    created_at=now, updated_at=now)
    session.add(notice)
    await session.flush()
    await audit(session, notice, author.id, Action.CREATE, "new", now)
    return notice


async def set_title(session: AsyncSession, author: Person, notice_id: int, text: str, now: datetime) -> Notice:
    notice = await editable(session, author, notice_id)
    title = clean_text(text, TITLE_MAX, too_long="notice.title_too_long")
    if not any(unicodedata.category(ch)[0] in "LN" for ch in title):  # emoji or punctuation only: says nothing
        raise DomainError("notice.title_no_words")
    notice.title = title
    return await _edited(session, notice, author, now)


async def set_body(session: AsyncSession, author: Person, notice_id: int, text: str, now: datetime,
                   *, append: bool = False) -> Notice:
    """`append` joins a continuation: Telegram splits long pastes into several messages."""
    notice = await editable(session, author, notice_id)
    addition = clean_text(text, BODY_MAX)
    body = f"{notice.body}\n{addition}" if append and notice.body else addition
    notice.body = clean_text(body, BODY_MAX)
    return await _edited(session, notice, author, now)


async def set_table(session: AsyncSession, author: Person, notice_id: int, table_text: str | None,
                    now: datetime) -> Notice:
    from services.notices.finance_table import parse_table  # the parser raises TableError with every bad line

    notice = await editable(session, author, notice_id)
    if table_text is not None:
        parse_table(table_text)
    notice.table_text = table_text
    return await _edited(session, notice, author, now)


async def add_attachment(session: AsyncSession, author: Person, notice_id: int, kind: str, file_id: str,
                         file_name: str | None, now: datetime, *, limit: int = 10) -> Attachment:
    notice = await editable(session, author, notice_id)
    if file_name:  # Telegram shows a document's name in every group it is sent to
        require_clean(file_name)
    if len(await attachments(session, notice_id)) >= limit:
        raise DomainError("notice.too_many_attachments", limit=limit)
    attachment = Attachment(notice_id=notice_id, kind=kind, file_id=file_id, file_name=file_name, created_at=now)
    session.add(attachment)
    await _edited(session, notice, author, now)
    return attachment


async def attachments(session: AsyncSession, notice_id: int) -> list[Attachment]:
    rows = await session.exec(select(Attachment).where(Attachment.notice_id == notice_id).order_by(col(Attachment.id)))
    return list(rows)


async def _edited(session: AsyncSession, notice: Notice, person: Person, now: datetime) -> Notice:
    """Not flushed here: the audit row reads the notice's fields, not the database, so the notice's UPDATE
    goes out with the audit row and the conversation state in one flush (before the next query, or when the
    update commits before its answer), and SQLite's write lock is taken that much later."""
    notice.updated_at = now
    session.add(notice)
    await audit(session, notice, person.id, Action.EDIT, notice.state, now)
    return notice


async def withdraw(session: AsyncSession, author: Person, notice_id: int, now: datetime) -> Notice:
    notice = await get(session, notice_id)
    await require_author(session, author, notice)
    await move(session, notice, Action.WITHDRAW, author.id, now)
    return notice


async def discard(session: AsyncSession, author: Person, notice_id: int, now: datetime) -> Notice:
    notice = await editable(session, author, notice_id)
    await move(session, notice, Action.DISCARD, author.id, now)
    return notice


async def person_by_id(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise DomainError("err.internal")
    return person



# --- queries -----------------------------------------------------------------------------------------

async def drafts_of(session: AsyncSession, author: Person) -> list[Notice]:
    rows = await session.exec(
        select(Notice).where(Notice.author_id == author.id,
                             col(Notice.state).in_([State.DRAFT, State.CHANGES_REQUESTED, State.IN_REVIEW]))
        .order_by(col(Notice.updated_at).desc()).limit(20)
    )
    return list(rows)


async def village_of(session: AsyncSession, notice: Notice) -> Village:
    return await directory.village_by_id(session, notice.village_id)
