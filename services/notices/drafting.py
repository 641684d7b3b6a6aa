"""The choices a clerk makes while drafting: catalog class, item and period; and the draft's preview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import PERIODIC, Cadence, Period
from catalogs.due import period_now_due
from models import Notice, Person
from services.errors import DomainError
from services.notices import drafts, screening
from services.notices.notice_view import notice_view
from services.people import directory
from services.people.roles import Role
from services.policy import Policy


def _label(names: Any, lang: str) -> str:
    return str(names.words(lang))


async def classes(session: AsyncSession, policy: Policy, village_id: int, lang: str) -> list[tuple[str, str]]:
    village = await directory.village_by_id(session, village_id)
    return [(k.code, _label(k.names, lang)) for k in policy.catalog_for(village).classes]


async def items(session: AsyncSession, policy: Policy, village_id: int, klass: str, lang: str) -> list[tuple[str, str]]:
    village = await directory.village_by_id(session, village_id)
    found = policy.catalog_for(village).klass(klass)
    if found is None:
        raise DomainError("err.stale_button")
    return [(i.code, f"{i.number}. {i.words(lang)}") for i in found.items]


@dataclass(frozen=True)
class DraftStart:
    notice: Notice
    periods: list[str]  # the period choices: finished ones, most recent first, then the current one
    current: str = ""  # the last of `periods`, which has not yet ended


FINISHED_SHOWN = 3


def period_choices(cadence: Cadence, today: datetime) -> list[str]:
    """Finished periods, most recent first (the one now due leads), then the current one, not yet ended."""
    due = period_now_due(cadence, today.date())
    return [str(due.shifted(-step)) for step in range(FINISHED_SHOWN)] + [str(due.next())]


async def start(session: AsyncSession, policy: Policy, author: Person, village_id: int, item_code: str,
                now: datetime) -> DraftStart:
    """`item_code` is the item's code in the village's own catalog ("cw.1"), so no other catalog's item fits."""
    village = await directory.village_by_id(session, village_id)
    item_id = f"{policy.catalog_for(village).code}:{item_code}"
    item = policy.item(item_id)
    if item is None:
        raise DomainError("err.stale_button")
    notice = await drafts.create_draft(session, author, village_id, item_id, None, now)
    cadence = item.effective_cadence(village.monthly_finance)
    if cadence not in PERIODIC:
        return DraftStart(notice, [])
    choices = period_choices(cadence, policy.local(village, now))
    return DraftStart(notice, choices, choices[-1])


async def set_period(session: AsyncSession, policy: Policy, author: Person, notice_id: int, period: str) -> Notice:
    notice = await drafts.editable(session, author, notice_id)
    village = await directory.village_by_id(session, notice.village_id)
    item = policy.item(notice.item_id)
    try:
        parsed = Period.parse(period)
    except ValueError as error:
        raise DomainError("draft.bad_period", period=period) from error
    if item is None or parsed.cadence != item.effective_cadence(village.monthly_finance):
        raise DomainError("draft.bad_period", period=period)
    notice.period = str(parsed)
    session.add(notice)
    return notice


async def preview(session: AsyncSession, policy: Policy, notice_id: int, now: datetime) -> dict[str, Any]:
    notice = await drafts.get(session, notice_id)
    village = await directory.village_by_id(session, notice.village_id)
    view = await notice_view(session, policy, notice, published_on=policy.today(village, now))
    view["attachments"] = len(await drafts.attachments(session, notice_id))
    findings = await screening.findings_of(session, notice)
    view["findings"] = [{"kind": f.kind, "text": f.text, "masked": f.masked} for f in findings]
    view["preview"] = True
    return view


def file_of(photos: list[Any] | None, document: Any | None) -> tuple[str, str, str | None]:
    """(kind, file_id, file name) of a message's photo (its largest size) or document."""
    if photos:
        return "photo", photos[-1].file_id, None
    if document is not None:
        return "document", document.file_id, document.file_name
    raise DomainError("draft.file_expected")


async def require_staff_of(session: AsyncSession, person: Person, notice: Notice) -> None:
    await directory.require(session, person.id or 0, Role.STAFF, notice.village_id)
