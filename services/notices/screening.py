"""The privacy gate of a draft: its open findings, masking them, and the supervisory committee allowing one.

The screen itself (what counts as a personal number) is services.privacy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice, Person
from services import privacy
from services.errors import DomainError
from services.notices import duties
from services.notices.drafts import REASON_MAX, audit, clean_text, editable, get, person_by_id
from services.notices.workflow import Action
from services.outbox import queue_to_person
from services.people import directory, official_numbers
from services.people.roles import Role


def screened_text(notice: Notice) -> str:
    return "\n".join(part for part in (notice.title, notice.body, notice.table_text or "") if part)


def allowed_texts(notice: Notice) -> set[str]:
    """The numbers the supervisory committee allowed in this notice: the outbox's gate lets them pass."""
    return {entry["text"] for entry in notice.privacy_overrides}


def open_findings(notice: Notice, official: Collection[str] = ()) -> list[privacy.Finding]:
    """Findings not yet masked and not allowed by a supervisor; `official`: the keys of the village's
    official numbers (`findings_of` passes them)."""
    allowed = {entry["text"] for entry in notice.privacy_overrides}
    return [f for f in privacy.screen(screened_text(notice), official) if f.text not in allowed]


async def passable(session: AsyncSession, notice: Notice) -> set[str]:
    """What the outbox's gate lets through in messages about this notice beyond the village's official
    numbers: the numbers the committee allowed. The official numbers pass by the one mechanism the gate has
    for them: loaded here into the session (services.outbox.OFFICIAL_KEYS), read by the gate by the row's
    village_id, never flagged by the screen."""
    await official_numbers.keys(session, notice.village_id)
    return allowed_texts(notice)


async def findings_of(session: AsyncSession, notice: Notice) -> list[privacy.Finding]:
    """The open findings, the village's and township's official numbers aside (never flagged)."""
    return open_findings(notice, await official_numbers.keys(session, notice.village_id))


def finding_key(finding: privacy.Finding) -> str:
    """A short, stable name of one finding for a button (callback data carries it, never the number)."""
    return hashlib.sha256(f"{finding.kind}:{finding.text}".encode()).hexdigest()[:10]


def _mask_open(text: str, allowed: set[str], official: Collection[str]) -> str:
    return privacy.mask_all(text, [f for f in privacy.screen(text, official) if f.text not in allowed])


async def mask_findings(session: AsyncSession, author: Person, notice_id: int, now: datetime) -> Notice:
    """Masks every open finding; what the committee allowed stays as it is."""
    notice = await editable(session, author, notice_id)
    allowed = {entry["text"] for entry in notice.privacy_overrides}
    official = await official_numbers.keys(session, notice.village_id)
    notice.title = _mask_open(notice.title, allowed, official)
    notice.body = _mask_open(notice.body, allowed, official)
    if notice.table_text:
        notice.table_text = _mask_open(notice.table_text, allowed, official)
    session.add(notice)
    await audit(session, notice, author.id, Action.PRIVACY_MASK, notice.state, now)
    return notice


async def finding_to_allow(session: AsyncSession, supervisor: Person, notice_id: int, key: str) -> privacy.Finding:
    """The open finding a supervisor's button names; a masked or already allowed one is a stale button."""
    notice = await check_supervisor(session, supervisor, notice_id)
    duties.check_not_author(supervisor, notice.author_id, "duties.own_finding")
    for finding in await findings_of(session, notice):
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
    remaining = len(await findings_of(session, notice))
    queue_to_person(session, await person_by_id(session, notice.author_id), "privacy_allowed",
                    {"title": notice.title, "reason": reason, "kind": finding.kind, "masked": finding.masked,
                     "by": supervisor.name, "remaining": remaining}, village_id=notice.village_id,
                    allowed=await passable(session, notice),
                    keyboard={"name": "resume", "notice_id": notice.id})  # back into the draft in one tap
    return finding


async def ask_to_allow(session: AsyncSession, author: Person, notice_id: int) -> int:
    """The author asks the supervisory committee to allow the open findings, one button per finding;
    returns how many members were asked."""
    notice = await editable(session, author, notice_id)
    findings = await findings_of(session, notice)
    if not findings:
        raise DomainError("notice.no_findings")
    supervisors = [p for p in await directory.people_with_role(session, notice.village_id, Role.SUPERVISOR)
                   if p.id != notice.author_id]  # nobody allows a finding in their own notice
    buttons = [{"key": finding_key(f), "kind": f.kind, "masked": f.masked} for f in findings[:MAX_FINDING_BUTTONS]]
    for supervisor in supervisors:
        queue_to_person(session, supervisor, "privacy_ask",
                        {"title": notice.title, "author": author.name,
                         "findings": [{"kind": f.kind, "text": f.text} for f in findings]},
                        keyboard={"name": "privacy_allow", "notice_id": notice.id, "findings": buttons},
                        village_id=notice.village_id,  # the committee sees the numbers it is asked to allow
                        allowed=await passable(session, notice) | {f.text for f in findings})
    return len(supervisors)


MAX_FINDING_BUTTONS = 20  # beyond this a notice is better masked than reviewed number by number


async def check_supervisor(session: AsyncSession, supervisor: Person, notice_id: int) -> Notice:
    notice = await get(session, notice_id)
    await directory.require(session, supervisor.id or 0, Role.SUPERVISOR, notice.village_id)
    return notice
