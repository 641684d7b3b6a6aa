"""Consultation (协商, seed 001 二(2)4-5): a topic proposed, the consultation prepared and held, its outcome
published, its adoption fed back (/consult).

Residents, representatives or staff propose a topic; staff schedule the consultation (a date still to come) and
record it (date, participants, positions, outcome). The recorded outcome is owed as a disclosure within the
profile's ad hoc period (an ordinary event obligation, source "consultation", as services.procedures.matters
does for a matter's result). Staff then feed back whether the outcome was adopted, with an explanation: the
proposer hears it and the village's resident groups read it. Everything typed here is read by others, so it is
screened for personal numbers first (services.outbox.require_clean) and again at the outbox's gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Cadence
from catalogs.due import event_due_date
from models import Consultation, Obligation, Person, Village
from services import privacy
from services.errors import DomainError
from services.outbox import queue, queue_to_person, require_clean
from services.people import directory, official_numbers
from services.people.roles import Role
from services.policy import Policy

SOURCE = "consultation"
PROPOSERS = (Role.STAFF, Role.REPRESENTATIVE, Role.RESIDENT)
TEXT_MAX = 2000
FIELDS = {  # the label before the colon, in either language -> the record's field
    "日期": "date", "date": "date", "参加": "participants", "参加人员": "participants", "参与": "participants",
    "participants": "participants", "意见": "positions", "各方意见": "positions", "positions": "positions",
    "结果": "outcome", "成果": "outcome", "协商结果": "outcome", "outcome": "outcome",
}
_LINE = re.compile(r"^\s*([^:：]{1,12})\s*[:：]\s*(.*)$")


def _topic(raw: str | None) -> str:
    topic = " ".join((raw or "").split())
    if not topic:
        raise DomainError("consult.no_topic")
    return topic[:200]


async def _village_to_propose(session: AsyncSession, person: Person) -> Village:
    for village in await directory.villages_of(session, person.id or 0):
        for role in PROPOSERS:
            if await directory.holds(session, person.id or 0, role, village.id or 0):
                return village
    raise DomainError("err.not_role", role=Role.RESIDENT.value)


async def propose(session: AsyncSession, person: Person, raw_topic: str | None, now: datetime) -> Consultation:
    """A topic for consultation in the person's village; its staff are told."""
    village = await _village_to_propose(session, person)
    topic = require_clean(_topic(raw_topic), await official_numbers.keys(session, village.id or 0))
    row = Consultation(village_id=village.id or 0, topic=topic, proposed_by=person.id or 0, proposed_at=now)
    session.add(row)
    await session.flush()
    for staff in await directory.people_with_role(session, village.id or 0, Role.STAFF):
        if staff.id != person.id:
            queue_to_person(session, staff, "consult_proposed", {"topic": topic, "by": person.name, "id": row.id},
                            village_id=village.id)
    return row


async def staff_consultation(session: AsyncSession, person: Person, consultation_id: int) -> Consultation:
    row = await session.get(Consultation, consultation_id)
    if row is None:
        raise DomainError("err.stale_button")
    await directory.require(session, person.id or 0, Role.STAFF, row.village_id)
    return row


async def village_of(session: AsyncSession, row: Consultation) -> Village:
    return await directory.village_by_id(session, row.village_id)


async def open_for(session: AsyncSession, person: Person) -> list[Consultation]:
    """/consult for staff: their villages' consultations not yet fed back."""
    villages = [v.id for v in await directory.villages_where(session, person.id or 0, Role.STAFF)]
    rows = await session.exec(select(Consultation).where(col(Consultation.village_id).in_(villages),
                                                         col(Consultation.adopted).is_(None))
                              .order_by(col(Consultation.id)))
    return list(rows)


async def is_staff(session: AsyncSession, person: Person) -> bool:
    return bool(await directory.villages_where(session, person.id or 0, Role.STAFF))


@dataclass(frozen=True)
class Form:
    day: date
    participants: str
    positions: str
    outcome: str


def parse_form(text: str) -> Form:
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        field = FIELDS.get(match[1].strip().lower()) if match else None
        if match and field:
            found[field] = match[2].strip()[:TEXT_MAX]
    if not found.get("date"):
        raise DomainError("matter.missing.date")
    try:
        day = date.fromisoformat(found["date"])
    except ValueError as error:
        raise DomainError("dl.bad_date", text=found["date"][:40]) from error
    return Form(day, found.get("participants", ""), found.get("positions", ""), found.get("outcome", ""))


async def record_form(session: AsyncSession, policy: Policy, person: Person, consultation_id: int, text: str,
                      now: datetime) -> Consultation:
    """A date still to come schedules the consultation; a date today or past records it, and then the
    participants, the positions and the outcome are all required. The outcome is owed as a disclosure within
    the profile's ad hoc period (T-ADHOC10 where the profile has it)."""
    row = await staff_consultation(session, person, consultation_id)
    if row.held_on is not None:
        raise DomainError("consult.already_recorded")
    if not row.topic.strip():  # an outcome is always the outcome of a topic
        raise DomainError("consult.no_topic")
    form = parse_form(text)
    village = await directory.village_by_id(session, row.village_id)
    if form.day > policy.today(village, now):
        row.scheduled_on = form.day
        session.add(row)
        return row
    official = await official_numbers.keys(session, row.village_id)
    for field in ("participants", "positions", "outcome"):
        if not getattr(form, field):
            raise DomainError(f"consult.missing.{field}")
        require_clean(getattr(form, field), official)
    row.held_on, row.participants, row.positions = form.day, form.participants, form.positions
    row.outcome, row.recorded_by = form.outcome, person.id
    session.add(row)
    due = event_due_date(policy.profile_for(village), Cadence.ADHOC.value, form.day)
    session.add(Obligation(village_id=row.village_id, source=SOURCE, source_id=row.id, rule=Cadence.ADHOC.value,
                           title=row.topic, event_date=form.day, due=due, created_by=person.id, created_at=now))
    await session.flush()
    return row


async def obligation_of(session: AsyncSession, consultation_id: int) -> Obligation | None:
    return (await session.exec(select(Obligation).where(Obligation.source == SOURCE,
                                                        Obligation.source_id == consultation_id))).first()


async def check_recorded(session: AsyncSession, person: Person, consultation_id: int) -> Consultation:
    """Feedback may be given: staff of the village, the consultation recorded, no feedback yet."""
    row = await staff_consultation(session, person, consultation_id)
    if row.held_on is None or row.adopted is not None:
        raise DomainError("consult.not_recorded")
    return row


async def feed_back(session: AsyncSession, person: Person, consultation_id: int, adopted: bool,
                    explanation: str | None) -> Consultation:
    """Adopted or not, with an explanation (seed 001: non-adoption is explained): told to the proposer and
    posted in the village's resident groups."""
    row = await check_recorded(session, person, consultation_id)
    text = " ".join((explanation or "").split())[:TEXT_MAX]
    if not text:
        raise DomainError("consult.no_explanation")
    official = await official_numbers.keys(session, row.village_id)
    row.adopted, row.feedback = adopted, require_clean(text, official)
    session.add(row)
    village = await directory.village_by_id(session, row.village_id)
    context = {"topic": row.topic, "outcome": row.outcome, "held_on": row.held_on.isoformat() if row.held_on else "",
               "adopted": adopted, "feedback": row.feedback, "village": village.name}
    proposer = await session.get(Person, row.proposed_by)
    if proposer is not None:
        queue_to_person(session, proposer, "consult_feedback", {**context, "to_proposer": True},
                        village_id=row.village_id)
    for chat in await directory.bound_chats(session, row.village_id):
        queue(session, chat.chat_id, "consult_feedback", {**context, "to_proposer": False}, lang=village.language,
              village_id=row.village_id)
    return row


async def as_view(session: AsyncSession, policy: Policy, row: Consultation) -> dict[str, object]:
    obligation = await obligation_of(session, row.id or 0)
    return {"id": row.id, "topic": row.topic, "scheduled_on": row.scheduled_on, "held_on": row.held_on,
            "participants": row.participants, "positions": row.positions, "outcome": row.outcome,
            "adopted": row.adopted, "due": obligation.due if obligation else None,
            "published": bool(obligation and obligation.met_at)}


async def disclosed(session: AsyncSession, village_id: int, start: date | None = None,
                    end: date | None = None) -> list[dict[str, object]]:
    """The completed consultations (outcome recorded, adoption fed back), newest first, as the public board
    and /archive show them: what the resident groups read when it was fed back (topic, date, outcome,
    adoption, explanation), screened again on the way out (a number the screen learned since is masked; the
    village's official numbers stay). `start`..`end` (end excluded): the days they were held in."""
    query = select(Consultation).where(Consultation.village_id == village_id,
                                       col(Consultation.adopted).is_not(None), col(Consultation.held_on).is_not(None))
    if start is not None:
        query = query.where(col(Consultation.held_on) >= start)
    if end is not None:
        query = query.where(col(Consultation.held_on) < end)
    official = await official_numbers.keys(session, village_id)
    rows = await session.exec(query.order_by(col(Consultation.held_on).desc(), col(Consultation.id).desc()))
    return [{"id": row.id, "held_on": row.held_on, "adopted": row.adopted,
             **{field: _screened(getattr(row, field), official) for field in ("topic", "outcome", "feedback")}}
            for row in rows]


def _screened(text: str, official: frozenset[str]) -> str:
    return privacy.mask_all(text, privacy.screen(text, official))
