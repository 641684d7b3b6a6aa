"""Publication: the last approval freezes the notice's text and queues one delivery row per chat.

The resident groups get the notice pinned for the profile's minimum posting period (T-KEEP10 / T-KEEP7);
the township's filing group gets a filing copy (备案); the author gets a progress message the delivery
worker keeps up to date. A correction edits the published messages in place; a retraction deletes them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs.due import posting_end
from models import Attachment, BoundChat, Notice, OutboxMessage, Person, Posting, Village
from services.board.visibility import board_ref
from services.errors import DomainError
from services.events import NoticeCorrected, NoticePublished, NoticeRetracted
from services.notices import drafts, duties
from services.notices.notice_view import notice_view
from services.notices.screening import passable
from services.notices.workflow import Action, State
from services.outbox import queue, queue_to_person
from services.people import directory, official_numbers
from services.people.roles import Role
from services.policy import Policy
from services.reactions import announce

PUBLISH_TOPIC = "notice:{id}"


def topic(notice_id: int) -> str:
    return PUBLISH_TOPIC.format(id=notice_id)


def progress_topic(notice_id: int) -> str:
    return f"progress:{notice_id}"


async def _chats(session: AsyncSession, village: Village) -> tuple[list[BoundChat], list[BoundChat]]:
    residents = await directory.bound_chats(session, village.id or 0)
    filing = await session.exec(select(BoundChat).where(
        BoundChat.township_id == village.township_id, BoundChat.purpose == "filing", BoundChat.active == True))  # noqa: E712
    return residents, list(filing)


async def publish(session: AsyncSession, notice: Notice, reviewer: Person, now: datetime, policy: Policy) -> None:
    """Called by the last stage's approval, inside its transaction."""
    await official_numbers.keys(session, notice.village_id)  # the outbox's gate lets the village's numbers pass
    notice.published_at = now
    village = await drafts.village_of(session, notice)
    today = policy.today(village, now)
    notice.posting_until = posting_end(policy.profile_for(village), today)
    await drafts.move(session, notice, Action.PUBLISH, reviewer.id, now)
    if notice.corrects_id is not None:
        await announce(session, NoticeCorrected(notice, now))
        await _replace_in_place(session, policy, notice, now)
        return
    await announce(session, NoticePublished(notice, now))
    view = await notice_view(session, policy, notice, published_on=today)
    residents, filing = await _chats(session, village)
    await _progress(session, notice, len(residents) + len(filing))  # first, so it is sent before the notice
    for chat in residents:
        # Always try to pin: rights change after /bind (and imported groups were never checked); a refused
        # pin leaves the notice posted and is recorded on its posting.
        await _post(session, notice, chat, view, purpose="residents", pin=True)
    for chat in filing:
        await _post(session, notice, chat, {**view, "filing": True}, purpose="filing", pin=False)


async def _post(session: AsyncSession, notice: Notice, chat: BoundChat, view: dict[str, Any], *, purpose: str,
                pin: bool) -> Posting:
    posting = Posting(notice_id=notice.id or 0, chat_id=chat.chat_id, purpose=purpose, pin=pin,
                      pin_until=notice.posting_until if pin else None)
    session.add(posting)
    await session.flush()
    files = await attachment_files(session, notice.id or 0)
    queue(session, chat.chat_id, "notice", {**view, "delivery": {"files": files, "pin": pin}}, action="post",
          topic=topic(notice.id or 0), village_id=notice.village_id, posting_id=posting.id,
          allowed=await passable(session, notice),
          keyboard={"name": "notice", "notice_id": notice.id, "filing": purpose == "filing",
                    "attachments": len(files), "board": await board_ref(session, notice.village_id)})
    return posting


async def attachment_files(session: AsyncSession, notice_id: int) -> list[dict[str, str]]:
    """What the delivery worker sends after a notice's text, frozen with the published text. A document keeps
    its file name in Telegram, so the name rides along for the outbox's privacy gate to screen."""
    return [{"kind": a.kind, "file_id": a.file_id, "name": a.file_name or ""}
            for a in await drafts.attachments(session, notice_id)]


async def _progress(session: AsyncSession, notice: Notice, total: int) -> None:
    author = await session.get(Person, notice.author_id)
    if author is not None:
        queue_to_person(session, author, "delivery_progress",
                        {"title": notice.title, "total": total, "sent": 0, "failed": [], "done": total == 0},
                        topic=progress_topic(notice.id or 0), village_id=notice.village_id,
                        allowed=await passable(session, notice))


async def postings(session: AsyncSession, notice_id: int, *, live_only: bool = True) -> list[Posting]:
    query = select(Posting).where(Posting.notice_id == notice_id)
    if live_only:
        query = query.where(col(Posting.state).in_(["queued", "posted", "uncertain"]))
    return list(await session.exec(query.order_by(col(Posting.id))))


# --- corrections ------------------------------------------------------------------------------------------

async def start_correction(session: AsyncSession, staff: Person, notice_id: int, now: datetime) -> Notice:
    """A new draft with the original's content and attachments. One correction at a time: a second one
    would be approved against a text the first is about to replace."""
    original = await drafts.get(session, notice_id)
    await directory.require(session, staff.id or 0, Role.STAFF, original.village_id)
    if original.state != State.PUBLISHED:
        raise DomainError("notice.not_published")
    await _refuse_second_correction(session, original)
    draft = await drafts.create_draft(session, staff, original.village_id, original.item_id, original.period, now,
                                       obligation_id=original.obligation_id,
                                       nothing_to_disclose=original.nothing_to_disclose)
    draft.title, draft.body, draft.table_text, draft.corrects_id = (
        original.title, original.body, original.table_text, original.id)
    draft.privacy_overrides = list(original.privacy_overrides)  # what the committee allowed stays allowed
    session.add(draft)
    for attachment in await drafts.attachments(session, original.id or 0):
        session.add(Attachment(notice_id=draft.id or 0, kind=attachment.kind, file_id=attachment.file_id,
                               file_name=attachment.file_name, created_at=now))
    return draft


async def _refuse_second_correction(session: AsyncSession, original: Notice) -> None:
    open_states = [State.DRAFT, State.IN_REVIEW, State.CHANGES_REQUESTED]
    pending = (await session.exec(select(Notice, Person).join(Person, col(Person.id) == Notice.author_id).where(
        Notice.corrects_id == original.id, col(Notice.state).in_(open_states)))).first()
    if pending is not None:
        correction, author = pending
        raise DomainError("notice.correction_open", name=author.name, id=correction.id)


async def _replace_in_place(session: AsyncSession, policy: Policy, correction: Notice, now: datetime) -> None:
    """The published messages are edited (or, where Telegram refuses, posted again) and pinned for the
    correction's own posting period: a corrected notice counts as published on the day of its correction."""
    original = await drafts.get(session, correction.corrects_id or 0)
    try:
        await drafts.move(session, original, Action.SUPERSEDE, correction.author_id, now)
    except DomainError as error:  # retracted (or corrected) while this correction was in review
        raise DomainError("notice.original_gone") from error
    view = await notice_view(session, policy, correction, corrected=True)
    files, before = (await attachment_files(session, correction.id or 0),
                     await attachment_files(session, original.id or 0))
    live = await postings(session, original.id or 0)
    await _progress(session, correction, len(live))
    for posting in live:
        posting.notice_id = correction.id or 0
        filing = posting.purpose == "filing"
        if posting.pin:
            posting.pin_until = correction.posting_until
        session.add(posting)
        delivery = {"files": files, "previous_files": before, "pin": posting.pin}
        queue(session, posting.chat_id, "notice", {**view, "filing": filing, "delivery": delivery}, action="edit",
              topic=topic(correction.id or 0), village_id=correction.village_id, posting_id=posting.id,
              allowed=await passable(session, correction),
              keyboard={"name": "notice", "notice_id": correction.id, "filing": filing, "attachments": len(files),
                        "board": await board_ref(session, correction.village_id)})


# --- retraction -----------------------------------------------------------------------------------------

RETRACTORS = (Role.SECRETARY, Role.SUPERVISOR)


async def _is_retractor(session: AsyncSession, person: Person, village_id: int) -> bool:
    return any([await directory.holds(session, person.id or 0, role, village_id) for role in RETRACTORS])


async def request_retraction(session: AsyncSession, person: Person, notice_id: int, reason: str,
                             now: datetime) -> bool:
    """Staff ask, a secretary or committee member decides. Returns True when it was retracted at once
    (the person asking may retract: a leak should not wait for a second tap)."""
    notice = await drafts.get(session, notice_id)
    await official_numbers.keys(session, notice.village_id)  # the outbox's gate lets the village's numbers pass
    reason = drafts.clean_text(reason, drafts.REASON_MAX, too_long="notice.reason_too_long")
    if await _is_retractor(session, person, notice.village_id):
        await retract(session, person, notice_id, reason, now)
        return True
    await directory.require(session, person.id or 0, Role.STAFF, notice.village_id)
    if notice.state != State.PUBLISHED:
        raise DomainError("notice.not_published")
    notice.retraction = {"requested_by": person.id, "reason": reason, "at": now.isoformat()}
    await drafts.move(session, notice, Action.REQUEST_RETRACTION, person.id, now, reason)
    for role in RETRACTORS:
        for approver in await directory.people_with_role(session, notice.village_id, role):
            if approver.id == person.id:
                continue  # nobody decides their own request (services.notices.duties)
            queue_to_person(session, approver, "retraction_request",
                            {"title": notice.title, "reason": reason, "by": person.name},
                            keyboard={"name": "retract", "notice_id": notice.id}, village_id=notice.village_id,
                            allowed=await passable(session, notice))
    return False


async def retract(session: AsyncSession, person: Person, notice_id: int, reason: str | None, now: datetime) -> Notice:
    notice = await drafts.get(session, notice_id)
    await official_numbers.keys(session, notice.village_id)
    if not await _is_retractor(session, person, notice.village_id):
        raise DomainError("err.not_role", role=Role.SECRETARY.value)
    if reason is None:  # a tap on a request: whoever asked does not decide it
        duties.check_not_author(person, (notice.retraction or {}).get("requested_by"), "duties.own_request")
    reason = reason or (notice.retraction or {}).get("reason")
    reason = drafts.clean_text(reason, drafts.REASON_MAX, too_long="notice.reason_too_long")
    await drafts.move(session, notice, Action.RETRACT, person.id, now, reason)
    await announce(session, NoticeRetracted(notice, reason, now))
    for posting in await postings(session, notice_id):
        await take_down(session, posting, now)
    author = await session.get(Person, notice.author_id)
    if author is not None:
        queue_to_person(session, author, "retracted", {"title": notice.title, "reason": reason, "by": person.name},
                        village_id=notice.village_id, allowed=await passable(session, notice))
    return notice


async def take_down(session: AsyncSession, posting: Posting, now: datetime) -> None:
    """What has not gone out yet never will (pending rows are cancelled in this transaction); what has is
    deleted. A row in flight right now is the worker's to clean up: it finds the posting removed."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.posting_id) == posting.id, col(OutboxMessage.status) == "pending",
               col(OutboxMessage.action).in_(POSTING_ACTIONS))
        .values(status="cancelled", error="notice retracted", done_at=now)
    )
    _queue_deletes(session, posting, [*posting.message_ids, *posting.attachment_ids])
    posting.state = "removed"
    session.add(posting)


POSTING_ACTIONS = ("post", "edit", "pin", "unpin")


def _queue_deletes(session: AsyncSession, posting: Posting, message_ids: list[int]) -> None:
    for message_id in message_ids:
        queue(session, posting.chat_id, "", {}, action="delete", target_message_id=message_id,
              posting_id=posting.id)


# --- the posting period ----------------------------------------------------------------------------------

async def postings_to_unpin(session: AsyncSession, today_by_village: dict[int, date]) -> list[Posting]:
    rows = await session.exec(
        select(Posting, Notice.village_id).join(Notice, col(Notice.id) == Posting.notice_id)
        .where(Posting.pinned == True, col(Posting.pin_until).is_not(None))  # noqa: E712
    )
    return [p for p, village_id in rows if p.pin_until and p.pin_until <= today_by_village.get(village_id, date.max)]


def keep_window(published_on: date, days: int) -> tuple[date, date]:
    return published_on, published_on + timedelta(days=days)


# --- what the delivery worker reports back ------------------------------------------------------------

async def posting_result(session: AsyncSession, posting_id: int, state: str | None,
                         message_ids: list[int] | None = None, pinned: bool | None = None,
                         now: datetime | None = None, attachment_ids: list[int] | None = None) -> None:
    """Record what the worker did in a chat (one UPDATE: the worker calls this for every row). A posting
    removed meanwhile (its notice was retracted while the row was in flight) stays removed, and whatever
    went out in between is deleted. `state` None: as it is."""
    values: dict[str, Any] = {"state": state, "message_ids": message_ids, "attachment_ids": attachment_ids,
                              "pinned": pinned, "updated_at": now}
    changed = await session.exec(
        update(Posting).where(col(Posting.id) == posting_id, col(Posting.state) != "removed")
        .values(**{key: value for key, value in values.items() if value is not None}))
    if changed.rowcount == 0 and await is_removed(session, posting_id):
        posting = await session.get(Posting, posting_id)
        _queue_deletes(session, posting, [*(message_ids or []), *(attachment_ids or [])])  # type: ignore[arg-type]


async def is_removed(session: AsyncSession, posting_id: int | None) -> bool:
    posting = await session.get(Posting, posting_id) if posting_id is not None else None
    return posting is not None and posting.state == "removed"


async def postings_moved(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """A group upgraded to a supergroup: its postings live on under the new id (for edits, deletes, pins)."""
    await session.exec(
        update(Posting).where(col(Posting.chat_id) == old_chat_id).values(chat_id=new_chat_id))


async def progress(session: AsyncSession, notice_id: int) -> dict[str, Any]:
    """Delivery of one notice so far: counts, and the titles of chats that failed or are uncertain."""
    # counted in SQL (the worker asks every few seconds while a notice goes to hundreds of groups); only the
    # chats that failed or are uncertain are read, for their titles
    counts: dict[str, Any] = {"total": 0, "sent": 0, "failed": [], "uncertain": []}
    for state, number in await session.exec(select(Posting.state, func.count()).where(Posting.notice_id == notice_id)
                                            .group_by(col(Posting.state))):
        counts["total"] += number
        if state == "posted":
            counts["sent"] += number
    troubled = await session.exec(
        select(Posting.state, Posting.chat_id, BoundChat.title)
        .outerjoin(BoundChat, col(BoundChat.chat_id) == Posting.chat_id)
        .where(Posting.notice_id == notice_id, col(Posting.state).in_(["failed", "uncertain"]))
        .order_by(col(Posting.id)))
    for state, chat_id, title in troubled:
        counts[state].append(title or str(chat_id))
    counts["done"] = counts["sent"] + len(counts["failed"]) + len(counts["uncertain"]) >= counts["total"]
    return counts


async def progress_message(session: AsyncSession, notice_id: int) -> OutboxMessage | None:
    return (await session.exec(select(OutboxMessage).where(OutboxMessage.topic == progress_topic(notice_id))
                               .order_by(col(OutboxMessage.id).desc()))).first()


# --- keeping notices up for their posting period (T-KEEP10 / T-KEEP7) ---------------------------------

async def postings_in_period(session: AsyncSession, policy: Policy,
                             now: datetime) -> list[tuple[Posting, OutboxMessage]]:
    """Resident-group postings still inside their posting period, with the outbox row that posted them."""
    rows = await session.exec(
        select(Posting, OutboxMessage, Village)
        .join(OutboxMessage, col(OutboxMessage.posting_id) == Posting.id)
        .join(Notice, col(Notice.id) == Posting.notice_id).join(Village, col(Village.id) == Notice.village_id)
        .where(Posting.state == "posted", Posting.purpose == "residents", col(Posting.pin_until).is_not(None),
               col(OutboxMessage.action).in_(["post", "edit"]), Notice.state == State.PUBLISHED)
        .order_by(col(Posting.id), col(OutboxMessage.id).desc())
    )
    latest: dict[int, tuple[Posting, OutboxMessage]] = {}
    for posting, row, village in rows:
        if posting.pin_until and posting.pin_until > policy.today(village, now):
            latest.setdefault(posting.id or 0, (posting, row))
    return list(latest.values())


async def post_again(session: AsyncSession, posting: Posting, original: OutboxMessage) -> None:
    """Deleted before its posting period ended: posted again (少于十日的，应当重新公布). Its other messages
    (later parts, attachments) go first, so the group does not show them twice."""
    _queue_deletes(session, posting, [*posting.message_ids[1:], *posting.attachment_ids])
    posting.reposts += 1
    if original.village_id is not None:
        await official_numbers.keys(session, original.village_id)
    posting.state, posting.message_ids, posting.attachment_ids, posting.pinned = "queued", [], [], False
    session.add(posting)
    queue(session, posting.chat_id, original.template, original.context, action="post", topic=original.topic,
          village_id=original.village_id, posting_id=posting.id, keyboard=original.keyboard,
          allowed=await passable(session, await drafts.get(session, posting.notice_id)))


async def pin_again(session: AsyncSession, posting: Posting, original: OutboxMessage) -> None:
    queue(session, posting.chat_id, "", {}, action="pin", target_message_id=posting.message_ids[0],
          village_id=original.village_id, posting_id=posting.id)
