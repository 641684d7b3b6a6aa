"""Residents' questions (质询) about published notices, complaints to the supervisory committee, reply
deadlines and the digest of replies that is itself a disclosure (village 事务类 20, community 事务类 15).

Residents' names go to the village staff only; the committee sees the question, never who asked. The
committee acts on complaints and on questions the staff passed to it, not on every question of its village.

Every reply, every time the committee requires an explanation, and every explanation that follows is kept
in order (QuestionEntry); the committee, /questions and the digest show that history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs.due import QUESTION_REPLY, event_due_date
from models import Attachment, Notice, OutboxMessage, Person, Question, QuestionEntry, RoleGrant, Village
from services.errors import DomainError, NotAllowed
from services.notices import drafts
from services.notices.screening import passable
from services.notices.workflow import State
from services.outbox import queue_to_person, require_clean
from services.people import directory, official_numbers
from services.people.roles import Role
from services.policy import Policy
from services.voice import limits as voice_limits

QUESTION_MAX = 2_000
REPLY_MAX = 4_000
OPEN_STATES = ("open", "explain")
REMIND_TOPIC = "q-remind:{id}"
LATE_TOPIC = "q-late:{id}"


# --- asking -------------------------------------------------------------------------------------------

async def published_notice(session: AsyncSession, notice_id: int) -> Notice:
    """A notice residents may see: published (a retracted, superseded or unpublished one is not)."""
    notice = await session.get(Notice, notice_id)
    if notice is None or notice.state != State.PUBLISHED:
        raise DomainError("voice.notice_gone")
    return notice


async def require_resident(session: AsyncSession, person_id: int, village_id: int) -> None:
    if not await directory.holds(session, person_id, Role.RESIDENT, village_id):
        raise NotAllowed("voice.not_resident")


def daily_quota(policy: Policy, village: Village, now: datetime, limit: int) -> voice_limits.Quota:
    """`limit` questions a person may ask per day of the village's calendar (QUESTION_DAILY_LIMIT)."""
    return voice_limits.daily(policy, village, now, voice_limits.QUESTION, limit, "voice.rate_limited")


GENERAL = 0  # the notice id a general question (one not about any notice) goes by in buttons and conversations


@dataclass(frozen=True)
class Subject:
    """What a question is about: a published notice of the village, or (notice None) the village's affairs."""

    village: Village
    notice: Notice | None


async def subject(session: AsyncSession, person: Person, notice_id: int) -> Subject:
    """The notice `notice_id` (published), or for GENERAL the village where the person is a confirmed resident."""
    if notice_id != GENERAL:
        notice = await published_notice(session, notice_id)
        await require_resident(session, person.id or 0, notice.village_id)
        return Subject(await directory.village_by_id(session, notice.village_id), notice)
    villages = await directory.villages_where(session, person.id or 0, Role.RESIDENT)
    if not villages:
        raise NotAllowed("voice.not_resident")
    return Subject(villages[0], None)


async def start_on(session: AsyncSession, policy: Policy, person: Person, notice_id: int, now: datetime,
                   limit: int) -> Subject:
    """May this person ask about this notice (or, for GENERAL, a general question) now? Says why not."""
    found = await subject(session, person, notice_id)
    await voice_limits.check(session, person.id or 0, daily_quota(policy, found.village, now, limit))
    return found


async def start(session: AsyncSession, policy: Policy, person: Person, notice_id: int, now: datetime,
                limit: int) -> Notice:
    """May this person ask about this notice now? Returns the notice, or says why not."""
    found = await start_on(session, policy, person, notice_id, now, limit)
    assert found.notice is not None
    return found.notice


@dataclass(frozen=True)
class Offer:
    """What a confirmed resident who typed text in private may make of it: a question about the village's
    latest published notice (None when nothing is published yet)."""

    village_id: int
    latest_id: int | None
    latest_title: str | None


def _offer_statement() -> Any:
    """The first village where the person is a confirmed resident, with its latest published notice: one
    statement of three columns, built once (a resident's plain text is the commonest update in private)."""
    latest = (select(Notice.id).where(col(Notice.village_id) == Village.id, Notice.state == State.PUBLISHED)
              .order_by(col(Notice.published_at).desc(), col(Notice.id).desc()).limit(1)
              .correlate(Village).scalar_subquery())
    return (select(col(Village.id), col(Notice.id), col(Notice.title)).select_from(RoleGrant)
            .join(Village, col(Village.id) == RoleGrant.village_id)
            .outerjoin(Notice, col(Notice.id) == latest)
            .where(col(RoleGrant.person_id) == bindparam("person_id"), RoleGrant.role == Role.RESIDENT,
                   RoleGrant.status == "active")
            .order_by(col(Village.id)).limit(1))


_OFFER = _offer_statement()


async def offer_for_text(session: AsyncSession, person: Person) -> Offer | None:
    """None for someone who is not a confirmed resident anywhere (they get the usual answer)."""
    if directory.holds_anywhere(session, person.id or 0, Role.RESIDENT) is False:
        return None
    found = (await session.exec(_OFFER, params={"person_id": person.id or 0})).first()
    return None if found is None else Offer(*found)


async def written(session: AsyncSession, person: Person, notice_id: int, text: str | None,
                  photo_file_id: str | None) -> str:
    """The question as the resident wrote it, checked before the preview (the village's official numbers pass)."""
    found = await subject(session, person, notice_id)
    return check_text(text, photo_file_id, await official_numbers.keys(session, found.village.id or 0))


def check_text(text: str | None, photo_file_id: str | None, official: Collection[str] = ()) -> str:
    """A question needs words, or at least a photo (its text is then a camera sign)."""
    # Staff (and for complaints, the committee) read it: a personal number is refused as it is typed.
    return require_clean(drafts.clean_text(text or ("📷" if photo_file_id else ""), QUESTION_MAX,
                                           too_long="voice.too_long"), official)


async def ask(session: AsyncSession, policy: Policy, person: Person, notice_id: int, text: str,
              photo_file_id: str | None, complaint: bool, now: datetime, limit: int) -> Question:
    """A question about a published notice, or for GENERAL about the village's affairs; both go to the
    village's staff with the same buttons, deadline and reminders."""
    found = await start_on(session, policy, person, notice_id, now, limit)
    notice, village, village_id = found.notice, found.village, found.village.id or 0
    body = check_text(text, photo_file_id, await official_numbers.keys(session, village_id))
    await voice_limits.take(session, person.id or 0, daily_quota(policy, village, now, limit))
    due = event_due_date(policy.profile_for(village), QUESTION_REPLY, policy.today(village, now))
    question = Question(notice_id=notice.id if notice else None, village_id=village_id, person_id=person.id or 0,
                        text=body, photo_file_id=photo_file_id, complaint=complaint, due=due, created_at=now)
    session.add(question)
    await session.flush()
    view = question_view(question, notice, person.name, [])
    for staff in await directory.people_with_role(session, village_id, Role.STAFF):
        queue_to_person(session, staff, "question_to_staff", view,
                        allowed=await _passable(session, question, notice), village_id=village_id,
                        keyboard=_staff_keyboard(question))
    if complaint:
        await _tell_committee(session, question, notice, "question_to_committee")
    return question


Entry = dict[str, Any]  # one step of a question's history as templates show it: kind and text


def question_view(question: Question, notice: Notice | None, asker: str | None = None,
                  history: list[Entry] | None = None) -> dict[str, Any]:
    """What a message about a question shows; `asker` only in what staff receive; no notice title for a
    general question (the templates then say it is one)."""
    return {"question_id": question.id, "notice_title": notice.title if notice else None, "text": question.text,
            "complaint": question.complaint, "due": question.due.isoformat(), "asker": asker,
            "has_photo": bool(question.photo_file_id), "reply": question.reply, "state": question.state,
            "history": history or []}


async def histories(session: AsyncSession, question_ids: Iterable[int]) -> dict[int, list[Entry]]:
    """Each question's replies, explanation requests and explanations, oldest first."""
    rows = await session.exec(select(QuestionEntry).where(col(QuestionEntry.question_id).in_(list(question_ids)))
                              .order_by(col(QuestionEntry.id)))
    found: dict[int, list[Entry]] = defaultdict(list)
    for entry in rows:
        found[entry.question_id].append({"kind": entry.kind, "text": entry.text})
    return found


async def history(session: AsyncSession, question_id: int) -> list[Entry]:
    return (await histories(session, [question_id])).get(question_id, [])


async def _passable(session: AsyncSession, question: Question, notice: Notice | None) -> set[str]:
    """What the outbox's gate lets through in messages about this question: for a notice's question what it
    lets through for the notice, for a general one the village's official numbers."""
    if notice is not None:
        return await passable(session, notice)
    return set(await official_numbers.keys(session, question.village_id))


def _staff_keyboard(question: Question) -> dict[str, Any]:
    return {"name": "question_staff", "question_id": question.id, "photo": bool(question.photo_file_id)}


async def _tell_committee(session: AsyncSession, question: Question, notice: Notice | None, template: str) -> None:
    # no name: the committee sees the question, not who asked
    view = question_view(question, notice, None, await history(session, question.id or 0))
    for supervisor in await directory.people_with_role(session, question.village_id, Role.SUPERVISOR):
        queue_to_person(session, supervisor, template, view,
                        allowed=await _passable(session, question, notice), village_id=question.village_id,
                        keyboard={"name": "question_committee", "question_id": question.id,
                                  "photo": bool(question.photo_file_id)})


# --- staff and committee ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Loaded:
    question: Question
    notice: Notice | None  # None for a general question


async def _load(session: AsyncSession, question_id: int) -> Loaded:
    question = await session.get(Question, question_id)
    if question is None:
        raise DomainError("err.stale_button")
    notice = await session.get(Notice, question.notice_id) if question.notice_id is not None else None
    return Loaded(question, notice)


async def for_role(session: AsyncSession, person: Person, question_id: int, *roles: Role) -> Loaded:
    """The question, if the person holds one of `roles` in its village (checked on every tap)."""
    loaded = await _load(session, question_id)
    for role in roles:
        if await directory.holds(session, person.id or 0, role, loaded.question.village_id):
            return loaded
    raise NotAllowed("err.not_role", role=roles[0].value)


async def for_committee(session: AsyncSession, supervisor: Person, question_id: int) -> Loaded:
    """The question, if the person is on its village's committee and the question was given to the committee:
    a complaint, or a question the staff passed on. Other questions are the staff's alone."""
    loaded = await for_role(session, supervisor, question_id, Role.SUPERVISOR)
    if not (loaded.question.complaint or loaded.question.passed_to_committee):
        raise NotAllowed("voice.not_for_committee")
    return loaded


async def photo(session: AsyncSession, person: Person, question_id: int) -> str:
    """Staff see any question's photo; the committee the photos of questions given to it."""
    try:
        loaded = await for_role(session, person, question_id, Role.STAFF)
    except NotAllowed:
        loaded = await for_committee(session, person, question_id)
    if not loaded.question.photo_file_id:
        raise DomainError("err.stale_button")
    return loaded.question.photo_file_id


async def start_reply(session: AsyncSession, staff: Person, question_id: int) -> Question:
    loaded = await for_role(session, staff, question_id, Role.STAFF)
    if loaded.question.state not in OPEN_STATES:
        raise DomainError("voice.question_done")
    return loaded.question


async def reply(session: AsyncSession, staff: Person, question_id: int, text: str, now: datetime) -> Question:
    """The staff's answer; after the committee required an explanation, it is that explanation. Both are
    added to the question's history; the question shows the latest."""
    loaded = await for_role(session, staff, question_id, Role.STAFF)
    answer = require_clean(drafts.clean_text(text, REPLY_MAX, too_long="voice.too_long"),
                           await official_numbers.keys(session, loaded.question.village_id))
    before = loaded.question.state
    claimed = await session.exec(
        update(Question).where(col(Question.id) == question_id, col(Question.state) == before,
                               col(Question.state).in_(OPEN_STATES))
        .values(state="answered", reply=answer, replied_by=staff.id, replied_at=now))
    if claimed.rowcount != 1:
        raise DomainError("voice.question_done")
    kind = "explanation" if before == "explain" else "reply"
    session.add(QuestionEntry(question_id=question_id, kind=kind, text=answer, person_id=staff.id or 0,
                              created_at=now))
    question = loaded.question
    await session.refresh(question)
    asker = await session.get(Person, question.person_id)
    if asker is not None:
        view = {**question_view(question, loaded.notice), "explanation": kind == "explanation"}
        queue_to_person(session, asker, "question_reply", view,
                        allowed=await _passable(session, question, loaded.notice), village_id=question.village_id)
    if question.complaint or question.passed_to_committee:
        await _tell_committee(session, question, loaded.notice, "question_replied")
    return question


async def pass_to_committee(session: AsyncSession, staff: Person, question_id: int) -> Question:
    loaded = await for_role(session, staff, question_id, Role.STAFF)
    question = loaded.question
    if question.state not in OPEN_STATES:
        raise DomainError("voice.question_done")
    if question.passed_to_committee or question.complaint:  # a complaint went to the committee already
        raise DomainError("err.already_decided")
    question.passed_to_committee = True
    session.add(question)
    await _tell_committee(session, question, loaded.notice, "question_to_committee")
    return question


async def require_explanation(session: AsyncSession, supervisor: Person, question_id: int,
                              now: datetime) -> Question:
    """The committee makes the staff explain (again, after an answer it finds wanting)."""
    loaded = await for_committee(session, supervisor, question_id)
    claimed = await session.exec(
        update(Question).where(col(Question.id) == question_id, col(Question.state).in_(("open", "answered")))
        .values(state="explain"))
    if claimed.rowcount != 1:
        raise DomainError("voice.question_done")
    session.add(QuestionEntry(question_id=question_id, kind="explain", person_id=supervisor.id or 0, created_at=now))
    question = loaded.question
    await session.refresh(question)
    view = {**question_view(question, loaded.notice, None, await history(session, question_id)),
            "by": supervisor.name}
    for staff in await directory.people_with_role(session, question.village_id, Role.STAFF):
        queue_to_person(session, staff, "question_explain", view,
                        allowed=await _passable(session, question, loaded.notice), village_id=question.village_id,
                        keyboard=_staff_keyboard(question))
    return question


async def close(session: AsyncSession, supervisor: Person, question_id: int, now: datetime) -> Question:
    loaded = await for_committee(session, supervisor, question_id)
    claimed = await session.exec(
        update(Question).where(col(Question.id) == question_id, col(Question.state) != "closed")
        .values(state="closed", closed_by=supervisor.id, closed_at=now))
    if claimed.rowcount != 1:
        raise DomainError("voice.question_done")
    question = loaded.question
    await session.refresh(question)
    asker = await session.get(Person, question.person_id)
    if asker is not None:
        queue_to_person(session, asker, "question_closed", question_view(question, loaded.notice),
                        village_id=question.village_id, allowed=await _passable(session, question, loaded.notice))
    return question


@dataclass(frozen=True)
class Listed:
    question: Question
    notice: Notice | None  # None for a general question
    asker: str | None  # None for the committee
    as_staff: bool


async def open_for(session: AsyncSession, person: Person, limit: int = 20) -> list[Listed]:
    """/questions: in villages where the person is staff, the questions awaiting a reply (with names); where
    on the committee, the complaints and passed questions it has not closed, answered ones included, since
    closing them is its part (without names)."""
    staff_of = {v.id for v in await directory.villages_where(session, person.id or 0, Role.STAFF)}
    committee_of = {v.id for v in await directory.villages_where(session, person.id or 0, Role.SUPERVISOR)}
    if not staff_of and not committee_of:
        raise NotAllowed("err.not_role", role=Role.STAFF.value)
    rows = await session.exec(
        select(Question, Notice, Person).outerjoin(Notice, col(Notice.id) == Question.notice_id)
        .join(Person, col(Person.id) == Question.person_id)
        .where(col(Question.village_id).in_(staff_of | committee_of), col(Question.state) != "closed")
        .order_by(col(Question.due), col(Question.id)))
    listed = []
    for question, notice, asker in rows:
        if question.village_id in staff_of and question.state in OPEN_STATES:
            listed.append(Listed(question, notice, asker.name, True))
        elif question.village_id in committee_of and (question.complaint or question.passed_to_committee):
            listed.append(Listed(question, notice, None, False))
    return listed[:limit]


async def open_views(session: AsyncSession, person: Person, limit: int = 20) -> list[tuple[Listed, dict[str, Any]]]:
    """/questions: each open question with what its line shows, its history included."""
    listed = await open_for(session, person, limit)
    found = await histories(session, [entry.question.id or 0 for entry in listed])
    return [(entry, question_view(entry.question, entry.notice, entry.asker, found.get(entry.question.id or 0)))
            for entry in listed]


# --- deadlines (called hourly) --------------------------------------------------------------------------

async def _already(session: AsyncSession, topic: str) -> bool:
    found = await session.exec(select(OutboxMessage.id).where(OutboxMessage.topic == topic).limit(1))
    return found.first() is not None


async def remind_and_escalate(session: AsyncSession, policy: Policy, now: datetime) -> int:
    """Staff are reminded the day before a reply is due; the committee hears when it is late, and from then
    on the question is the committee's too (as if passed to it). Each once: the outbox row's topic is the
    record that it was said."""
    rows = await session.exec(select(Question, Notice, Village)
                              .outerjoin(Notice, col(Notice.id) == Question.notice_id)
                              .join(Village, col(Village.id) == Question.village_id)
                              .where(col(Question.state).in_(OPEN_STATES)))
    queued = 0
    for question, notice, village in rows:
        today = policy.today(village, now)
        if today > question.due:
            queued += await _nag(session, question, notice, Role.SUPERVISOR, "question_late", LATE_TOPIC)
        elif today >= question.due - timedelta(days=1):
            queued += await _nag(session, question, notice, Role.STAFF, "question_due", REMIND_TOPIC)
    return queued


async def _nag(session: AsyncSession, question: Question, notice: Notice | None, role: Role, template: str,
               topic_pattern: str) -> int:
    topic = topic_pattern.format(id=question.id)
    if await _already(session, topic):
        return 0
    if role is Role.SUPERVISOR and not question.complaint:
        question.passed_to_committee = True  # escalated: the committee may now require, close, see the photo
        session.add(question)
    people = await directory.people_with_role(session, question.village_id, role)
    keyboard = _staff_keyboard(question) if role is Role.STAFF else {
        "name": "question_committee", "question_id": question.id, "photo": bool(question.photo_file_id)}
    for person in people:
        queue_to_person(session, person, template, question_view(question, notice),
                        allowed=await _passable(session, question, notice), topic=topic,
                        village_id=question.village_id, keyboard=keyboard)
    return len(people)


# --- the digest: replies to villagers' questions, published as a notice ---------------------------------

DigestBody = Callable[[list[dict[str, Any]], bool], str]  # (the questions, ad hoc?) -> the notice body


def digest_item(policy: Policy, village: Village) -> str | None:
    """The catalog's "replies to villagers' questions" item (Jiangyuan: village 事务类 20, community 事务类 15).
    The other catalogs (Yubei, Dawukou, Yanliang) have none and no item of theirs is near enough to borrow:
    their digest is an ad hoc notice (临时公开) whose body says why."""
    items = policy.catalog_for(village).with_role("question_replies")
    return items[0].full_id if items else None


async def _legacy_cutoff(session: AsyncSession, village_id: int, item_id: str | None) -> datetime | None:
    """When the last published notice of the digest item was drafted. Questions never drafted into a digest
    and answered before then are taken as covered by it: digests made before questions recorded their digest
    (migration 0003), or written by hand with /draft."""
    if item_id is None:
        return None
    found = await session.exec(select(func.max(Notice.created_at)).where(
        Notice.village_id == village_id, Notice.item_id == item_id, col(Notice.published_at).is_not(None)))
    return found.one()


async def answered_since_last_digest(session: AsyncSession, village_id: int,
                                     item_id: str | None) -> list[tuple[Question, dict[str, Any]]]:
    """Questions with an answer no published digest shows yet, with what the digest shows of each: the
    question and its whole history, never who asked. A question is covered when the digest it was drafted
    into was published and nothing was answered or explained after that draft was made; a question answered
    while a digest waited for review goes into the next one."""
    digest = aliased(Notice)
    covered = col(digest.published_at).is_not(None) & (col(Question.replied_at) <= col(digest.created_at))
    query = (select(Question, Notice).outerjoin(Notice, col(Notice.id) == Question.notice_id)
             .outerjoin(digest, col(digest.id) == Question.digest_notice_id)
             .where(Question.village_id == village_id, col(Question.reply).is_not(None), ~covered))
    cutoff = await _legacy_cutoff(session, village_id, item_id)
    if cutoff is not None:
        query = query.where(col(Question.digest_notice_id).is_not(None) | (col(Question.replied_at) > cutoff))
    rows = list(await session.exec(query.order_by(col(Question.replied_at), col(Question.id))))
    found = await histories(session, [q.id or 0 for q, _ in rows])
    return [(q, {"notice_title": n.title if n else None, "text": q.text, "reply": q.reply, "complaint": q.complaint,
                 "asked_on": q.created_at.date().isoformat(), "history": found.get(q.id or 0, [])}) for q, n in rows]


async def create_digest(session: AsyncSession, policy: Policy, staff: Person, title: str, render: DigestBody,
                        now: datetime) -> Notice:
    """A draft listing the questions answered since the last digest, without residents' names; it goes
    through the village's review chain like any notice."""
    villages = await directory.villages_where(session, staff.id or 0, Role.STAFF)
    if not villages:
        raise NotAllowed("err.not_role", role=Role.STAFF.value)
    village = villages[0]
    item_id = digest_item(policy, village)
    answered = await answered_since_last_digest(session, village.id or 0, item_id)
    if not answered:
        raise DomainError("voice.digest_empty")
    notice = await drafts.create_draft(session, staff, village.id or 0, item_id, None, now)
    await drafts.set_title(session, staff, notice.id or 0, title, now)
    await drafts.set_body(session, staff, notice.id or 0, render([row for _, row in answered], item_id is None), now)
    for question, _ in answered:
        question.digest_notice_id = notice.id
        session.add(question)
    return notice


# --- attachments of a published notice -------------------------------------------------------------------

async def public_attachments(session: AsyncSession, notice_id: int) -> tuple[Notice, list[Attachment]]:
    """Published content is public: anyone holding the link may have its files."""
    notice = await published_notice(session, notice_id)
    return notice, await drafts.attachments(session, notice_id)
