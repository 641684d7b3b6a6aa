"""Notice use cases: drafting, the privacy gate, the review chain, publication, correction, retraction.

Every state change goes through services.notices.workflow and is written to the audit log in the same
transaction; whatever must be said to people is queued in the outbox in that transaction too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Attachment, AuditEntry, Notice, Person, ReviewDecision, Village
from services import privacy
from services.errors import DomainError
from services.notices.notice_view import notice_view
from services.notices.workflow import EDITABLE, Action, State, TransitionRefused, transition
from services.outbox import queue_to_person
from services.people import directory
from services.people.roles import Role
from services.policy import Policy

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
    notice.title = clean_text(text, TITLE_MAX, too_long="notice.title_too_long")
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
    notice.updated_at = now
    session.add(notice)
    await session.flush()
    await audit(session, notice, person.id, Action.EDIT, notice.state, now)
    return notice


# --- the privacy gate -------------------------------------------------------------------------------

def screened_text(notice: Notice) -> str:
    return "\n".join(part for part in (notice.title, notice.body, notice.table_text or "") if part)


def open_findings(notice: Notice) -> list[privacy.Finding]:
    """Findings not yet masked and not allowed by a supervisor."""
    allowed = {entry["text"] for entry in notice.privacy_overrides}
    return [f for f in privacy.screen(screened_text(notice)) if f.text not in allowed]


def finding_key(finding: privacy.Finding) -> str:
    """A short, stable name of one finding for a button (callback data carries it, never the number)."""
    return hashlib.sha256(f"{finding.kind}:{finding.text}".encode()).hexdigest()[:10]


def _mask_open(text: str, allowed: set[str]) -> str:
    return privacy.mask_all(text, [f for f in privacy.screen(text) if f.text not in allowed])


async def mask_findings(session: AsyncSession, author: Person, notice_id: int, now: datetime) -> Notice:
    """Masks every open finding; what the committee allowed stays as it is."""
    notice = await editable(session, author, notice_id)
    allowed = {entry["text"] for entry in notice.privacy_overrides}
    notice.title = _mask_open(notice.title, allowed)
    notice.body = _mask_open(notice.body, allowed)
    if notice.table_text:
        notice.table_text = _mask_open(notice.table_text, allowed)
    session.add(notice)
    await audit(session, notice, author.id, Action.PRIVACY_MASK, notice.state, now)
    return notice


async def finding_to_allow(session: AsyncSession, supervisor: Person, notice_id: int, key: str) -> privacy.Finding:
    """The open finding a supervisor's button names; a masked or already allowed one is a stale button."""
    notice = await check_supervisor(session, supervisor, notice_id)
    for finding in open_findings(notice):
        if finding_key(finding) == key:
            return finding
    raise DomainError("privacy.already_handled")


async def allow_finding(session: AsyncSession, supervisor: Person, notice_id: int, key: str, reason: str,
                        now: datetime) -> privacy.Finding:
    """A supervisory committee member allows ONE finding (e.g. the village office's public phone), with a
    reason that is recorded for that finding: the override, the audit entry and the author's message name it."""
    finding = await finding_to_allow(session, supervisor, notice_id, key)
    notice = await get(session, notice_id)
    reason = clean_text(reason, REASON_MAX, too_long="notice.reason_too_long")
    notice.privacy_overrides = [*notice.privacy_overrides, {
        "text": finding.text, "kind": finding.kind, "masked": finding.masked, "by": supervisor.id,
        "reason": reason, "at": now.isoformat()}]
    session.add(notice)
    await audit(session, notice, supervisor.id, Action.PRIVACY_OVERRIDE, notice.state, now,
                f"{finding.kind} {finding.masked}: {reason}")
    queue_to_person(session, await _person(session, notice.author_id), "privacy_allowed",
                    {"title": notice.title, "reason": reason, "kind": finding.kind, "masked": finding.masked,
                     "by": supervisor.name, "remaining": len(open_findings(notice))}, village_id=notice.village_id)
    return finding


async def ask_to_allow(session: AsyncSession, author: Person, notice_id: int) -> int:
    """The author asks the supervisory committee to allow the open findings, one button per finding;
    returns how many members were asked."""
    notice = await editable(session, author, notice_id)
    findings = open_findings(notice)
    if not findings:
        raise DomainError("notice.no_findings")
    supervisors = await directory.people_with_role(session, notice.village_id, Role.SUPERVISOR)
    buttons = [{"key": finding_key(f), "kind": f.kind, "masked": f.masked} for f in findings[:MAX_FINDING_BUTTONS]]
    for supervisor in supervisors:
        queue_to_person(session, supervisor, "privacy_ask",
                        {"title": notice.title, "author": author.name,
                         "findings": [{"kind": f.kind, "text": f.text} for f in findings]},
                        keyboard={"name": "privacy_allow", "notice_id": notice.id, "findings": buttons},
                        village_id=notice.village_id)
    return len(supervisors)


MAX_FINDING_BUTTONS = 20  # beyond this a notice is better masked than reviewed number by number


# --- submission and review ----------------------------------------------------------------------------

async def submit(session: AsyncSession, policy: Policy, author: Person, notice_id: int, now: datetime) -> Notice:
    notice = await editable(session, author, notice_id)
    if not notice.title or not (notice.body or notice.table_text or notice.nothing_to_disclose):
        raise DomainError("notice.incomplete")
    if open_findings(notice):
        raise DomainError("notice.privacy_open")
    village = await directory.village_by_id(session, notice.village_id)
    notice.review_chain = list(village.review_chain)
    notice.version += 1
    notice.stage = 0
    await move(session, notice, Action.SUBMIT, author.id, now)
    await _ask_reviewers(session, policy, notice)
    return notice


async def _ask_reviewers(session: AsyncSession, policy: Policy, notice: Notice) -> None:
    role = Role(notice.review_chain[notice.stage])
    reviewers = await directory.people_with_role(session, notice.village_id, role)
    if not reviewers:
        author = await _person(session, notice.author_id)
        queue_to_person(session, author, "review_nobody", {"title": notice.title, "role": role.value},
                        village_id=notice.village_id)
    view = await notice_view(session, policy, notice)
    view["stage_role"], view["stages"], view["stage"] = role.value, len(notice.review_chain), notice.stage
    for reviewer in reviewers:
        queue_to_person(session, reviewer, "review_request", view,
                        keyboard={"name": "review", "notice_id": notice.id, "version": notice.version,
                                  "stage": notice.stage}, village_id=notice.village_id)


@dataclass(frozen=True)
class Outcome:
    notice: Notice
    decision: str
    published: bool


async def decide(session: AsyncSession, policy: Policy, reviewer: Person, notice_id: int, version: int,
                 stage: int, decision: str, reason: str | None, now: datetime) -> Outcome:
    """One reviewer's tap. Re-checks the role, the stage and the version; the unique key on
    (notice, version, stage) makes a double tap or two reviewers at once decide once."""
    notice = await get(session, notice_id)
    role = await check_reviewer(session, policy, reviewer, notice, version, stage)
    if decision not in ("approve", "changes", "reject"):
        raise DomainError("err.stale_button")
    if decision != "approve":
        reason = clean_text(reason, REASON_MAX, too_long="notice.reason_too_long")
    last = stage + 1 == len(notice.review_chain)
    if decision == "approve" and last and open_findings(notice):  # the screen runs again before publication
        return await _privacy_return(session, notice, reviewer, now)
    await _record_decision(session, notice, reviewer, role, decision, reason, now)
    published = False
    if decision == "approve" and stage + 1 < len(notice.review_chain):
        notice.stage = stage + 1
        await move(session, notice, Action.APPROVE, reviewer.id, now)
        await _ask_reviewers(session, policy, notice)
    elif decision == "approve":
        from services.notices.publication import publish  # publication builds on this module

        await publish(session, notice, reviewer, now, policy)
        published = True
    else:
        action = Action.REQUEST_CHANGES if decision == "changes" else Action.REJECT
        await move(session, notice, action, reviewer.id, now, reason)
    await _tell_author(session, notice, reviewer, decision, reason, published)
    return Outcome(notice, decision, published)


async def check_reviewer(session: AsyncSession, policy: Policy, reviewer: Person, notice: Notice, version: int,
                         stage: int) -> Role:
    """The person holds that stage's role in the notice's village (checked first, so nobody else learns
    anything about the notice), and the tap is current: state, version and stage."""
    if not notice.review_chain or not 0 <= stage < len(notice.review_chain):
        raise DomainError("err.stale_button")
    role = Role(notice.review_chain[stage])
    await directory.require(session, reviewer.id or 0, role, notice.village_id)
    await _check_current(session, policy, notice, version, stage)
    return role


async def check_supervisor(session: AsyncSession, person: Person, notice_id: int) -> Notice:
    notice = await get(session, notice_id)
    await directory.require(session, person.id or 0, Role.SUPERVISOR, notice.village_id)
    return notice


async def _check_current(session: AsyncSession, policy: Policy, notice: Notice, version: int, stage: int) -> None:
    if notice.state == State.IN_REVIEW and notice.version == version and notice.stage == stage:
        return
    previous = (await session.exec(
        select(ReviewDecision, Person).join(Person, col(Person.id) == ReviewDecision.person_id)
        .where(ReviewDecision.notice_id == notice.id, ReviewDecision.version == version,
               ReviewDecision.stage == stage)
    )).first()
    if previous is not None:
        decided, person = previous
        at = policy.local(await village_of(session, notice), decided.decided_at)  # the village's clock, not UTC
        raise DomainError("review.already_decided", name=person.name, at=at.strftime("%Y-%m-%d %H:%M"))
    raise DomainError("review.stale")


async def _claim_stage(session: AsyncSession, notice: Notice, now: datetime) -> None:
    """A conditional UPDATE: of two concurrent taps, the second waits for the first's commit and then
    matches no row."""
    claimed = await session.exec(  # type: ignore[call-overload]
        update(Notice).where(col(Notice.id) == notice.id, col(Notice.state) == State.IN_REVIEW,
                             col(Notice.version) == notice.version, col(Notice.stage) == notice.stage)
        .values(updated_at=now)
    )
    if claimed.rowcount != 1:
        raise DomainError("review.stale")


async def _privacy_return(session: AsyncSession, notice: Notice, reviewer: Person, now: datetime) -> Outcome:
    """The second privacy screen found something at the final approval (the screen learned a new pattern
    since the submission, say): nothing is published, the notice goes back to its author with the
    findings, and everyone who reviewed this version hears why their approval did not publish it."""
    await _claim_stage(session, notice, now)
    findings = open_findings(notice)
    listed = [{"kind": f.kind, "text": f.text, "masked": f.masked} for f in findings]
    summary = "; ".join(f"{f.kind} {f.masked}" for f in findings)
    await move(session, notice, Action.PRIVACY_RETURN, reviewer.id, now, summary[:REASON_MAX])
    author = await _person(session, notice.author_id)
    queue_to_person(session, author, "privacy_returned", {"title": notice.title, "findings": listed,
                                                          "to_author": True}, village_id=notice.village_id)
    reviewers = {p.id: p for _, p in await _decisions_of_version(session, notice)}
    reviewers[reviewer.id] = reviewer
    for person in reviewers.values():
        queue_to_person(session, person, "privacy_returned", {"title": notice.title, "findings": listed,
                                                              "to_author": False}, village_id=notice.village_id)
    return Outcome(notice, "privacy", False)


async def _decisions_of_version(session: AsyncSession, notice: Notice) -> list[tuple[ReviewDecision, Person]]:
    rows = await session.exec(
        select(ReviewDecision, Person).join(Person, col(Person.id) == ReviewDecision.person_id)
        .where(ReviewDecision.notice_id == notice.id, ReviewDecision.version == notice.version))
    return list(rows)


async def _record_decision(session: AsyncSession, notice: Notice, reviewer: Person, role: Role, decision: str,
                           reason: str | None, now: datetime) -> None:
    """Claim the stage first (_claim_stage); the unique key on review_decision is the last line."""
    await _claim_stage(session, notice, now)
    session.add(ReviewDecision(notice_id=notice.id or 0, version=notice.version, stage=notice.stage, role=role.value,
                               person_id=reviewer.id or 0, decision=decision, reason=reason, decided_at=now))
    await session.flush()


async def _tell_author(session: AsyncSession, notice: Notice, reviewer: Person, decision: str,
                       reason: str | None, published: bool) -> None:
    author = await _person(session, notice.author_id)
    queue_to_person(session, author, "review_outcome",
                    {"title": notice.title, "reviewer": reviewer.name, "decision": decision, "reason": reason,
                     "published": published, "notice_id": notice.id, "stage": notice.stage,
                     "stages": len(notice.review_chain)},
                    village_id=notice.village_id)


async def withdraw(session: AsyncSession, author: Person, notice_id: int, now: datetime) -> Notice:
    notice = await get(session, notice_id)
    await require_author(session, author, notice)
    await move(session, notice, Action.WITHDRAW, author.id, now)
    return notice


async def discard(session: AsyncSession, author: Person, notice_id: int, now: datetime) -> Notice:
    notice = await editable(session, author, notice_id)
    await move(session, notice, Action.DISCARD, author.id, now)
    return notice


async def _person(session: AsyncSession, person_id: int) -> Person:
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


async def waiting_for(session: AsyncSession, reviewer: Person) -> list[Notice]:
    """Notices at a stage whose role this person holds in the notice's village (an inspector: in its
    township). Two queries whatever the number of villages: the person's roles, then their villages'
    notices in review."""
    grants = [m for m in await directory.memberships(session, reviewer.id or 0) if m.status == "active"]
    in_village = {(m.village_id, m.role) for m in grants if m.village_id is not None}
    townships = {m.township_id for m in grants if m.role is Role.INSPECTOR and m.township_id is not None}
    if not in_village and not townships:
        return []
    rows = await session.exec(
        select(Notice, Village.township_id).join(Village, col(Village.id) == Notice.village_id)
        .where(Notice.state == State.IN_REVIEW,
               or_(col(Notice.village_id).in_({v for v, _ in in_village}), col(Village.township_id).in_(townships)))
        .order_by(col(Notice.id)))
    waiting = []
    for notice, township_id in rows:
        role = Role(notice.review_chain[notice.stage])
        if (notice.village_id, role) in in_village or (role is Role.INSPECTOR and township_id in townships):
            waiting.append(notice)
    return waiting


async def village_of(session: AsyncSession, notice: Notice) -> Village:
    return await directory.village_by_id(session, notice.village_id)
