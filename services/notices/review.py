"""The review chain: submitting a draft, each stage's decision, and the last approval publishing it.

Every state change goes through services.notices.workflow and is written to the audit log in the same
transaction; whatever must be said to people is queued in the outbox in that transaction too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice, OutboxMessage, Person, ReviewDecision, Village
from services.board.visibility import board_ref
from services.errors import DomainError
from services.notices import duties
from services.notices.drafts import REASON_MAX, clean_text, editable, get, move, person_by_id, village_of
from services.notices.notice_view import notice_view
from services.notices.publication import publish
from services.notices.screening import findings_of, passable
from services.notices.workflow import Action, State
from services.outbox import queue, queue_to_person
from services.people import directory, official_numbers
from services.people.roles import Role, chain_for
from services.policy import Policy


async def submit(session: AsyncSession, policy: Policy, author: Person, notice_id: int, now: datetime) -> Notice:
    notice = await editable(session, author, notice_id)
    if not notice.title or not (notice.body or notice.table_text or notice.nothing_to_disclose):
        raise DomainError("notice.incomplete")
    if await findings_of(session, notice):
        raise DomainError("notice.privacy_open")
    village = await directory.village_by_id(session, notice.village_id)
    item = policy.item(notice.item_id)
    chain = chain_for(list(village.review_chain), item is not None and item.finance_class)
    await duties.require_staffed(session, village, author.id, chain)
    notice.review_chain = chain
    notice.version += 1
    notice.stage = 0
    await move(session, notice, Action.SUBMIT, author.id, now)
    await _ask_reviewers(session, policy, notice)
    return notice


async def _ask_reviewers(session: AsyncSession, policy: Policy, notice: Notice) -> None:
    await official_numbers.keys(session, notice.village_id)  # the outbox's gate lets the village's numbers pass
    role = Role(notice.review_chain[notice.stage])
    # Neither the author nor whoever decided an earlier stage of this version is asked (services.notices.duties).
    deciders = {p.id for _, p in await _decisions_of_version(session, notice)} | {notice.author_id}
    reviewers = [p for p in await directory.people_with_role(session, notice.village_id, role) if p.id not in deciders]
    if not reviewers:
        author = await person_by_id(session, notice.author_id)
        queue_to_person(session, author, "review_nobody", {"title": notice.title, "role": role.value},
                        village_id=notice.village_id, allowed=await passable(session, notice))
    view = await notice_view(session, policy, notice)
    view["stage_role"], view["stages"], view["stage"] = role.value, len(notice.review_chain), notice.stage
    for reviewer in reviewers:
        queue_to_person(session, reviewer, "review_request", view,
                        keyboard={"name": "review", "notice_id": notice.id, "version": notice.version,
                                  "stage": notice.stage}, village_id=notice.village_id,
                        allowed=await passable(session, notice),
                        topic=request_topic(notice.id or 0, notice.version, notice.stage))


def request_topic(notice_id: int, version: int, stage: int) -> str:
    """Names the review requests of one stage, so a decision can be written into every copy of them."""
    return f"review:{notice_id}:{version}:{stage}"


@dataclass(frozen=True)
class Outcome:
    notice: Notice
    decision: str
    published: bool
    decided: dict[str, str | None] = field(default_factory=dict)  # what, who and when, for the reviewers' record
    recorded_in: frozenset[tuple[int, int]] = frozenset()  # (chat, message) of the request copies being edited


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
    if decision == "approve" and last and await findings_of(session, notice):  # screened again before publishing
        return await _privacy_return(session, policy, notice, reviewer, now)
    await _record_decision(session, notice, reviewer, role, decision, reason, now)
    decided, recorded_in = await _write_into_requests(session, policy, notice, stage, {
        "decision": decision, "by": reviewer.name, "reason": reason}, now)
    # The author hears in causal order: this stage's decision, then the publication, then the delivery
    # summary (publish() queues the progress message after this row).
    published = decision == "approve" and last
    if decision == "approve" and not last:
        notice.stage = stage + 1
        await move(session, notice, Action.APPROVE, reviewer.id, now)
        await _tell_author(session, notice, reviewer, decision, reason, False)
        await _ask_reviewers(session, policy, notice)
    elif decision == "approve":
        await _tell_author(session, notice, reviewer, decision, reason, True)
        await publish(session, notice, reviewer, now, policy)
    else:
        action = Action.REQUEST_CHANGES if decision == "changes" else Action.REJECT
        await move(session, notice, action, reviewer.id, now, reason)
        await _tell_author(session, notice, reviewer, decision, reason, False)
    return Outcome(notice, decision, published, decided, recorded_in)


async def _write_into_requests(session: AsyncSession, policy: Policy, notice: Notice, stage: int,
                               decided: dict[str, str | None], now: datetime
                               ) -> tuple[dict[str, str | None], frozenset[tuple[int, int]]]:
    """Every reviewer's copy of this stage's request is edited in place to say what was decided, by whom and
    when, so the chat history is the reviewers' record (a copy not yet sent goes out as it is; its buttons
    then answer who decided)."""
    at = policy.local(await village_of(session, notice), now).strftime("%Y-%m-%d %H:%M")
    rows = await session.exec(select(OutboxMessage).where(
        OutboxMessage.topic == request_topic(notice.id or 0, notice.version, stage),
        OutboxMessage.template == "review_request", col(OutboxMessage.message_id).is_not(None)))
    decided = {**decided, "at": at}
    recorded_in = set()
    allowed = await passable(session, notice)  # the request passed the gate with these; so does its record
    for row in rows:
        # A long request went out in parts (the buttons under the last): every part is rewritten, so no
        # earlier part still says "please review" above the record.
        parts = [int(i) for i in (row.progress or {}).get("ids", [])]
        queue(session, row.chat_id, "review_request", {**row.context, "decided": decided,
                                                       "part_ids": parts if len(parts) > 1 else None},
              lang=row.lang, action="edit", target_message_id=row.message_id, village_id=row.village_id,
              allowed=allowed)
        recorded_in.add((row.chat_id, row.message_id or 0))
    return decided, frozenset(recorded_in)


async def check_reviewer(session: AsyncSession, policy: Policy, reviewer: Person, notice: Notice, version: int,
                         stage: int) -> Role:
    """The person holds that stage's role in the notice's village (checked first, so nobody else learns
    anything about the notice), and the tap is current: state, version and stage."""
    if not notice.review_chain or not 0 <= stage < len(notice.review_chain):
        raise DomainError("err.stale_button")
    role = Role(notice.review_chain[stage])
    await directory.require(session, reviewer.id or 0, role, notice.village_id)
    await duties.check_decider(session, reviewer, notice, version, stage)
    await _check_current(session, policy, notice, version, stage)
    return role


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
    claimed = await session.exec(
        update(Notice).where(col(Notice.id) == notice.id, col(Notice.state) == State.IN_REVIEW,
                             col(Notice.version) == notice.version, col(Notice.stage) == notice.stage)
        .values(updated_at=now)
    )
    if claimed.rowcount != 1:
        raise DomainError("review.stale")


async def _privacy_return(session: AsyncSession, policy: Policy, notice: Notice, reviewer: Person,
                          now: datetime) -> Outcome:
    """The second privacy screen found something at the final approval (the screen learned a new pattern
    since the submission, say): nothing is published, the notice goes back to its author with the
    findings, and everyone who reviewed this version hears why their approval did not publish it."""
    await _claim_stage(session, notice, now)
    findings = await findings_of(session, notice)
    listed = [{"kind": f.kind, "text": f.text, "masked": f.masked} for f in findings]
    summary = "; ".join(f"{f.kind} {f.masked}" for f in findings)
    await move(session, notice, Action.PRIVACY_RETURN, reviewer.id, now, summary[:REASON_MAX])
    decided, recorded_in = await _write_into_requests(session, policy, notice, notice.stage, {
        "decision": "privacy", "by": reviewer.name, "reason": None}, now)
    author = await person_by_id(session, notice.author_id)
    queue_to_person(session, author, "privacy_returned", {"title": notice.title, "findings": listed,
                                                          "to_author": True}, village_id=notice.village_id,
                    allowed=await passable(session, notice) | {f.text for f in findings},  # the author's own text
                    keyboard={"name": "resume", "notice_id": notice.id})
    # The reviewers hear why, with the numbers masked: they are not theirs to see again.
    listed = [{"kind": f.kind, "text": f.masked, "masked": f.masked} for f in findings]
    reviewers = {p.id: p for _, p in await _decisions_of_version(session, notice)}
    reviewers[reviewer.id] = reviewer
    for person in reviewers.values():
        queue_to_person(session, person, "privacy_returned", {"title": notice.title, "findings": listed,
                                                              "to_author": False}, village_id=notice.village_id,
                        allowed=await passable(session, notice))
    return Outcome(notice, "privacy", False, decided, recorded_in)


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
    author = await person_by_id(session, notice.author_id)
    # The "published" message carries the poster buttons, and a photo replied to it is the posting proof
    # (services.board.proof).
    keyboard: dict[str, object] | None = None
    if published:
        keyboard = {"name": "published", "notice_id": notice.id, "board": await board_ref(session, notice.village_id)}
    elif decision == "changes":  # straight back into the draft, no /drafts to remember
        keyboard = {"name": "resume", "notice_id": notice.id}
    queue_to_person(session, author, "review_outcome",
                    {"title": notice.title, "reviewer": reviewer.name, "decision": decision, "reason": reason,
                     "published": published, "notice_id": notice.id, "stage": notice.stage,
                     "stages": len(notice.review_chain)},
                    keyboard=keyboard, village_id=notice.village_id, allowed=await passable(session, notice))


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
        if notice.author_id == reviewer.id:
            continue  # nobody reviews their own notice (services.notices.duties)
        role = Role(notice.review_chain[notice.stage])
        if (notice.village_id, role) in in_village or (role is Role.INSPECTOR and township_id in townships):
            waiting.append(notice)
    return waiting


