"""A matter through 四议两公开, recorded step by step by the staff (/matter).

The procedure is catalog data (catalogs/items/yanliang.yaml `procedures`): its deliberations in order, what
each record holds, which one decides, and the disclosures it produces. A step is refused when an earlier one
is missing or already recorded, when the votes exceed the attendance, or when its date is in the future or
before the previous step's. Recording the deciding meeting makes the resolution owed at once (T-NOW) and the
implementation result owed at the latest `after_days` later; recording completion brings the result forward.
Both are ordinary event obligations (source "matter"), met by a published notice like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Cadence, Procedure, Step
from catalogs.due import LOCAL, event_due_date, event_notes
from models import Matter, MatterStep, Notice, Obligation, Person, Village
from services import privacy
from services.errors import DomainError
from services.outbox import require_clean
from services.people import directory, official_numbers
from services.people.roles import Role
from services.policy import Policy

SOURCE = "matter"
PROCEDURE = "syl"  # 四议两公开, the one procedure the catalogs declare so far
FIELDS = {  # what a person may write before the colon, in either language -> the record's field
    "日期": "date", "date": "date", "会议": "body", "机构": "body", "body": "body", "meeting": "body",
    "到会": "attendance", "到会人数": "attendance", "attendance": "attendance", "present": "attendance",
    "赞成": "for", "for": "for", "反对": "against", "against": "against",
    "弃权": "abstaining", "abstaining": "abstaining", "abstain": "abstaining",
    "内容": "text", "决议": "text", "text": "text",
}
_LINE = re.compile(r"^\s*([^:：]{1,12})\s*[:：]\s*(.*)$")


def procedure(policy: Policy, code: str = PROCEDURE) -> Procedure:
    """The procedure as the catalogs declare it (any catalog may transcribe it; it applies to every village)."""
    for catalog in policy.registry.catalogs.values():
        for found in catalog.procedures:
            if found.code == code:
                return found
    raise DomainError("err.stale_button")


async def _staff_matter(session: AsyncSession, person: Person, matter_id: int) -> Matter:
    matter = await session.get(Matter, matter_id)
    if matter is None:
        raise DomainError("err.stale_button")
    await directory.require(session, person.id or 0, Role.STAFF, matter.village_id)
    return matter


async def create(session: AsyncSession, policy: Policy, person: Person, village: Village, title: str,
                 now: datetime) -> Matter:
    title = " ".join(title.split())
    if not title:
        raise DomainError("matter.no_title")
    await directory.require(session, person.id or 0, Role.STAFF, village.id or 0)
    _clean(title, await official_numbers.keys(session, village.id or 0))
    procedure(policy)
    matter = Matter(village_id=village.id or 0, procedure=PROCEDURE, title=title[:200], created_by=person.id or 0,
                    created_at=now)
    session.add(matter)
    await session.flush()
    return matter


def _clean(title: str, official: frozenset[str]) -> None:
    """A matter's title is public (the disclosures it owes carry it to the digests, the board and the
    archive): a personal number in it is refused as it is typed, with what was found; the village's official
    numbers pass. Titles stored before this rule are still masked on the way out."""
    try:
        require_clean(title, official)
    except DomainError as error:
        raise DomainError("matter.title_has_numbers", **error.params) from None


async def records_of(session: AsyncSession, matter_id: int) -> dict[str, MatterStep]:
    rows = await session.exec(select(MatterStep).where(MatterStep.matter_id == matter_id))
    return {row.step: row for row in rows}


def next_step(proc: Procedure, recorded: dict[str, MatterStep]) -> Step | None:
    return next((step for step in proc.deliberations() if step.code not in recorded), None)


@dataclass(frozen=True)
class Form:
    held_on: date
    body: str
    attendance: int | None
    votes: tuple[int, int, int] | None  # for, against, abstaining
    text: str


def parse_form(step: Step, text: str) -> Form:
    """The person's message, one "label: value" per line (labels in either language), as the step's record."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        field = FIELDS.get(match[1].strip().lower()) if match else None
        if match and field:
            found[field] = match[2].strip()
    wanted = set(step.records)
    needed = ["date", *(["body"] if "body" in wanted else []), *(["attendance"] if "attendance" in wanted else []),
              *(["for", "against", "abstaining"] if "votes" in wanted else []), "text"]
    for field in needed:
        if not found.get(field):
            raise DomainError(f"matter.missing.{field}")
    try:
        held_on = date.fromisoformat(found["date"])
    except ValueError as error:
        raise DomainError("dl.bad_date", text=found["date"][:40]) from error
    numbers = {field: _count(found[field]) for field in ("attendance", "for", "against", "abstaining")
               if field in needed}
    votes = (numbers["for"], numbers["against"], numbers["abstaining"]) if "for" in numbers else None
    return Form(held_on, found.get("body", "")[:100], numbers.get("attendance"), votes, found["text"][:2000])


def _count(text: str) -> int:
    if not text.isdigit() or len(text) > 6:
        raise DomainError("matter.bad_number", text=text[:20])
    return int(text)


async def check_step(session: AsyncSession, policy: Policy, person: Person, matter_id: int, step_code: str
                     ) -> tuple[Matter, Procedure, Step, dict[str, MatterStep]]:
    """The step may be recorded now by this person: staff of the village, the next one in order, not yet done."""
    matter = await _staff_matter(session, person, matter_id)
    proc = procedure(policy, matter.procedure)
    step = proc.step(step_code)
    if step is None or step.cadence is not None:
        raise DomainError("err.stale_button")
    recorded = await records_of(session, matter_id)
    if step.code in recorded:
        raise DomainError("matter.already", step=step.zh, step_en=step.en)
    expected = next_step(proc, recorded)
    if expected is not None and expected.code != step.code:
        raise DomainError("matter.out_of_order", step=step.zh, step_en=step.en, missing=expected.zh,
                          missing_en=expected.en)
    return matter, proc, step, recorded


async def create_for(session: AsyncSession, policy: Policy, person: Person, title: str,
                     now: datetime) -> Matter | list[Village]:
    """/matter TITLE: a new matter in the person's village; staff of several villages get the villages to
    choose from instead (`create_in` once they tap one), nothing created yet."""
    villages = await directory.villages_where(session, person.id or 0, Role.STAFF)
    if not villages:
        raise DomainError("err.not_role", role=Role.STAFF.value)
    if len(villages) > 1:
        if not " ".join(title.split()):
            raise DomainError("matter.no_title")
        official: frozenset[str] = frozenset()
        for village in villages:  # refused before the picker, not after the tap
            official |= await official_numbers.keys(session, village.id or 0)
        _clean(title, official)
        return villages
    return await create(session, policy, person, villages[0], title, now)


async def create_in(session: AsyncSession, policy: Policy, person: Person, village_id: int, title: str | None,
                    now: datetime) -> Matter:
    """The village tapped for a new matter (a callback carries its id): `create` re-checks that the person is
    its staff now; no title waiting (the conversation moved on) is a stale button."""
    if title is None:
        raise DomainError("err.stale_button")
    return await create(session, policy, person, await directory.village_by_id(session, village_id), title, now)


async def next_of(session: AsyncSession, policy: Policy, matter: Matter) -> tuple[Step | None, bool]:
    """The next deliberation to record (None once all are), and whether the matter is decided."""
    proc = procedure(policy, matter.procedure)
    recorded = await records_of(session, matter.id or 0)
    decided = any(step.decides and step.code in recorded for step in proc.steps)
    return next_step(proc, recorded), decided and matter.completed_on is None


async def record_step(session: AsyncSession, policy: Policy, person: Person, matter_id: int, step_code: str,
                      text: str, now: datetime) -> MatterStep:
    """Record one deliberation; the deciding one makes the two disclosures owed."""
    matter, proc, step, recorded = await check_step(session, policy, person, matter_id, step_code)
    form = parse_form(step, text)
    village = await directory.village_by_id(session, matter.village_id)
    if form.held_on > policy.today(village, now):
        raise DomainError("matter.future", day=form.held_on.isoformat())
    latest = max((row.held_on for row in recorded.values()), default=None)
    if latest is not None and form.held_on < latest:
        raise DomainError("matter.before_previous", day=form.held_on.isoformat(), previous=latest.isoformat())
    if form.votes is not None and form.attendance is not None and sum(form.votes) > form.attendance:
        raise DomainError("matter.votes_exceed", votes=sum(form.votes), attendance=form.attendance)
    row = MatterStep(matter_id=matter_id, step=step.code, held_on=form.held_on, body=form.body,
                     attendance=form.attendance, votes_for=form.votes[0] if form.votes else None,
                     votes_against=form.votes[1] if form.votes else None,
                     votes_abstaining=form.votes[2] if form.votes else None, text=form.text,
                     recorded_by=person.id or 0, recorded_at=now)
    session.add(row)
    if step.decides:
        _owe_disclosures(policy, village, matter, proc, form.held_on, person, now, session)
    await session.flush()
    return row


def _owe_disclosures(policy: Policy, village: Village, matter: Matter, proc: Procedure, decided_on: date,
                     person: Person, now: datetime, session: AsyncSession) -> None:
    profile = policy.profile_for(village)
    for step in proc.disclosures():
        assert step.cadence is not None
        event_date = decided_on + timedelta(days=step.after_days or 0)
        session.add(Obligation(village_id=matter.village_id, source=SOURCE, source_id=matter.id,
                               rule=step.cadence.value, title=matter.title, event_date=event_date,
                               due=event_due_date(profile, step.cadence.value, event_date), created_by=person.id,
                               created_at=now))


async def matter(session: AsyncSession, matter_id: int) -> Matter:
    found = await session.get(Matter, matter_id)
    if found is None:
        raise DomainError("err.stale_button")
    return found


async def village_of(session: AsyncSession, matter: Matter) -> Village:
    return await directory.village_by_id(session, matter.village_id)


async def check_decided(session: AsyncSession, policy: Policy, person: Person, matter_id: int
                        ) -> tuple[Matter, MatterStep]:
    """Completion may be recorded: staff of the village, the deciding meeting recorded, not completed yet."""
    matter = await _staff_matter(session, person, matter_id)
    decision = next((step for step in procedure(policy, matter.procedure).steps if step.decides), None)
    recorded = await records_of(session, matter_id)
    if decision is None or decision.code not in recorded or matter.completed_on is not None:
        raise DomainError("matter.not_decided")
    return matter, recorded[decision.code]


async def complete(session: AsyncSession, policy: Policy, person: Person, matter_id: int, day_text: str,
                   now: datetime) -> tuple[Matter, date]:
    """The decision is carried out: the result disclosure is owed from this day (if sooner than the period).
    Returns the matter and the result's due date."""
    matter, decided = await check_decided(session, policy, person, matter_id)
    try:
        day = date.fromisoformat(day_text.strip())
    except ValueError as error:
        raise DomainError("dl.bad_date", text=day_text.strip()[:40]) from error
    village = await directory.village_by_id(session, matter.village_id)
    if day < decided.held_on or day > policy.today(village, now):
        raise DomainError("matter.bad_completion", day=day.isoformat())
    matter.completed_on = day
    session.add(matter)
    profile = policy.profile_for(village)
    due = event_due_date(profile, Cadence.ADHOC.value, day)
    for row in await obligations_of(session, matter_id):
        if row.rule == Cadence.ADHOC.value and row.met_notice_id is None and day < row.event_date:
            row.event_date, row.due = day, due
            session.add(row)
        elif row.rule == Cadence.ADHOC.value:
            due = row.due
    await session.flush()
    return matter, due


async def obligations_of(session: AsyncSession, matter_id: int) -> list[Obligation]:
    rows = await session.exec(select(Obligation).where(Obligation.source == SOURCE, Obligation.source_id == matter_id)
                              .order_by(col(Obligation.id)))
    return list(rows)


@dataclass(frozen=True)
class PathStep:
    step: Step
    record: MatterStep | None = None
    obligation: Obligation | None = None  # a disclosure step's obligation, once owed


async def path(session: AsyncSession, policy: Policy, matter: Matter) -> list[PathStep]:
    """The matter's whole path: each deliberation with its record, each disclosure with its obligation."""
    proc = procedure(policy, matter.procedure)
    recorded = await records_of(session, matter.id or 0)
    owed = {row.rule: row for row in await obligations_of(session, matter.id or 0)}
    return [PathStep(step, recorded.get(step.code), owed.get(step.cadence.value) if step.cadence else None)
            for step in proc.steps]


async def as_view(session: AsyncSession, policy: Policy, matter: Matter) -> dict[str, object]:
    """What a template shows of a matter: its title, each step (names in both languages, the record or the
    disclosure's due date with what must be said about that date), and its completion."""
    village = await directory.village_by_id(session, matter.village_id)
    profile = policy.profile_for(village)
    steps: list[dict[str, Any]] = []
    for entry in await path(session, policy, matter):
        notes: tuple[str, ...] = ()
        if entry.obligation is not None and entry.obligation.met_at is None:
            waiting = entry.step.after_days is not None and matter.completed_on is None
            notes = (LOCAL,) if waiting else event_notes(profile, entry.obligation.rule, entry.obligation.event_date)
        steps.append({"code": entry.step.code, "zh": entry.step.zh, "en": entry.step.en, "record": entry.record,
                      "obligation": entry.obligation, "notes": notes})
    return {"id": matter.id, "title": matter.title, "path": steps,
            "completed_on": matter.completed_on.isoformat() if matter.completed_on else None}


async def open_for(session: AsyncSession, person: Person) -> list[Matter]:
    """/matter: the matters of the person's villages (as staff) whose path is not finished: a deliberation
    or completion still to record, or a disclosure still to publish."""
    villages = [v.id for v in await directory.villages_where(session, person.id or 0, Role.STAFF)]
    if not villages:
        raise DomainError("err.not_role", role=Role.STAFF.value)
    rows = list(await session.exec(select(Matter).where(col(Matter.village_id).in_(villages))
                                   .order_by(col(Matter.id))))
    unmet = {row.source_id for row in await session.exec(select(Obligation).where(
        Obligation.source == SOURCE, col(Obligation.source_id).in_([m.id for m in rows]),
        col(Obligation.met_notice_id).is_(None)))}
    return [m for m in rows if m.completed_on is None or m.id in unmet]


async def matter_of_obligation(session: AsyncSession, obligation_id: int | None) -> Matter | None:
    """The matter whose disclosure an obligation is (the board and the archive show its path)."""
    if obligation_id is None:
        return None
    row = await session.get(Obligation, obligation_id)
    if row is None or row.source != SOURCE or row.source_id is None:
        return None
    return await session.get(Matter, row.source_id)


def _screened(text: str) -> str:
    return privacy.mask_all(text, privacy.screen(text)) if text else ""


async def published_path(session: AsyncSession, policy: Policy, notice: Notice) -> list[dict[str, Any]] | None:
    """The whole path of the matter a published notice discloses (its resolution or its result), for the
    board and the archive: each deliberation's record (typed by staff, so screened for personal numbers on
    the way out) and each disclosure's state; None when the notice discloses no matter."""
    ids = [notice.id, notice.corrects_id] if notice.corrects_id else [notice.id]
    row = (await session.exec(select(Obligation).where(Obligation.source == SOURCE,
                                                       col(Obligation.met_notice_id).in_(ids)))).first()
    if row is None and notice.obligation_id is not None:
        row = await session.get(Obligation, notice.obligation_id)
    if row is None or row.source != SOURCE or row.source_id is None:
        return None
    found = await session.get(Matter, row.source_id)
    if found is None:
        return None
    steps: list[dict[str, Any]] = []
    for entry in await path(session, policy, found):
        record = entry.record
        steps.append({"zh": entry.step.zh, "en": entry.step.en, "held_on": record.held_on if record else None,
                      "body": _screened(record.body) if record else "",
                      "attendance": record.attendance if record else None,
                      "votes": (record.votes_for, record.votes_against, record.votes_abstaining)
                      if record and record.votes_for is not None else None,
                      "text": _screened(record.text) if record else "",
                      "published": bool(entry.obligation and entry.obligation.met_at),
                      "disclosure": entry.step.cadence is not None})
    return steps
