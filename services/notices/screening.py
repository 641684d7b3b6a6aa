"""The privacy gate of a draft: its open findings, masking them, and the supervisory committee allowing one.

The screen itself (what counts as a personal number) is services.privacy.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice, Person
from services import privacy
from services.errors import DomainError
from services.notices.drafts import REASON_MAX, audit, clean_text, editable, get, person_by_id
from services.notices.workflow import Action
from services.outbox import queue_to_person
from services.people import directory
from services.people.roles import Role


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
    queue_to_person(session, await person_by_id(session, notice.author_id), "privacy_allowed",
                    {"title": notice.title, "reason": reason, "kind": finding.kind, "masked": finding.masked,
                     "by": supervisor.name, "remaining": len(open_findings(notice))}, village_id=notice.village_id,
                    keyboard={"name": "resume", "notice_id": notice.id})  # back into the draft in one tap
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


async def check_supervisor(session: AsyncSession, supervisor: Person, notice_id: int) -> Notice:
    notice = await get(session, notice_id)
    await directory.require(session, supervisor.id or 0, Role.SUPERVISOR, notice.village_id)
    return notice
