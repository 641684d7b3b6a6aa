"""The village's published notices by quarter, for /archive and `cunwu admin export-archive`.

Dates are the village's (its time zone), never UTC. A retracted notice keeps its place in the record
(title, dates, "retracted" and the reason) but not its content: it was retracted because something in it
must not be shown, so neither the printed page nor the CSV repeats it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Period
from catalogs.periods import period_words
from models import AuditEntry, Notice, Village
from services.errors import DomainError
from services.notices.notice_view import notice_view
from services.notices.workflow import Action, State
from services.people import directory
from services.policy import Policy
from services.procedures import consultations
from services.procedures.matters import published_path

SHOWN = (State.PUBLISHED, State.RETRACTED)
STAMP = "%Y-%m-%d %H:%M"


def parse_quarter(quarter: str) -> Period:
    try:
        period = Period.parse(quarter)
    except ValueError as error:
        raise DomainError("archive.bad_quarter", quarter=quarter[:20]) from error
    if period.cadence != "quarterly":
        raise DomainError("archive.bad_quarter", quarter=quarter[:20])
    return period


def quarter_bounds(policy: Policy, village: Village, quarter: str) -> tuple[datetime, datetime]:
    period = parse_quarter(quarter)
    tz = policy.tz(village)
    start = datetime.combine(period.start, time.min, tz)
    end = datetime.combine(period.next().start, time.min, tz)
    return start, end


async def published_in(session: AsyncSession, policy: Policy, village: Village, quarter: str) -> list[Notice]:
    start, end = quarter_bounds(policy, village, quarter)
    rows = await session.exec(
        select(Notice).where(Notice.village_id == village.id, col(Notice.state).in_(SHOWN),
                             col(Notice.published_at) >= start, col(Notice.published_at) < end)
        .order_by(col(Notice.published_at))
    )
    return list(rows)


def current_quarter(policy: Policy, village: Village, now: datetime) -> str:
    return str(Period.containing("quarterly", policy.today(village, now)))


async def consultations_in(session: AsyncSession, village: Village, quarter: str) -> list[dict[str, Any]]:
    """The quarter's completed consultations (held in it, adoption fed back), screened like the board's."""
    period = parse_quarter(quarter)
    return await consultations.disclosed(session, village.id or 0, period.start, period.next().start)


async def entries(session: AsyncSession, policy: Policy, village: Village, quarter: str) -> list[dict[str, Any]]:
    """The quarter's notices as the archive shows them, oldest first (see the module's docstring)."""
    found = []
    for notice in await published_in(session, policy, village, quarter):
        published = policy.local(village, notice.published_at)  # type: ignore[arg-type]
        if notice.state == State.RETRACTED:
            entry = await _retracted(session, policy, village, notice)
        else:
            entry = await notice_view(session, policy, notice)
            entry["path"] = await published_path(session, policy, notice)  # a matter's 四议两公开, if any
        entry.update(id=notice.id, published_at=published.strftime(STAMP), published_on=published.strftime("%m-%d"))
        found.append(entry)
    return found


async def _retracted(session: AsyncSession, policy: Policy, village: Village, notice: Notice) -> dict[str, Any]:
    retraction = (await session.exec(select(AuditEntry).where(
        AuditEntry.notice_id == notice.id, AuditEntry.action == Action.RETRACT.value))).first()
    return {
        "notice_id": notice.id, "title": notice.title, "state": notice.state, "unit": village.committee_name or
        village.name, "body": "", "table": None, "item": None, "klass": None, "period": notice.period,
        "reviewers": [], "posting_until": None, "nothing_to_disclose": False,
        "retracted_at": policy.local(village, retraction.at).strftime(STAMP) if retraction else "",
        "reason": (retraction.reason if retraction else None) or "",
    }


async def villages_to_show(session: AsyncSession, person_id: int) -> list[Village]:
    villages = await directory.villages_of(session, person_id)
    if not villages:
        raise DomainError("err.no_village_yet")
    return villages


async def village_to_show(session: AsyncSession, person_id: int, village_id: int) -> Village:
    """A village the person belongs to (a tapped button's village is checked again on the server)."""
    for village in await villages_to_show(session, person_id):
        if village.id == village_id:
            return village
    raise DomainError("err.stale_button")


async def export_rows(session: AsyncSession, policy: Policy, village_code: str,
                      quarter: str) -> tuple[Village, list[dict[str, Any]]]:
    """The quarter's notices as plain rows (for the CSV and the printable page), oldest first."""
    village = await directory.village_by_code(session, village_code)
    if village is None:
        raise DomainError("err.no_village")
    return village, await entries(session, policy, village, quarter)


CSV_FIELDS = ("notice_id", "published_at", "class", "item", "period", "title", "body", "reviewers", "posting_until",
              "state", "retracted_at", "reason")
# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_row(view: dict[str, Any], lang: str = "zh", role_words: Callable[[str], str] = str,
            state_words: Callable[[str], str] = str) -> dict[str, str]:
    """`role_words`, `state_words`: a reviewer's role and the notice's state in the reader's words (the caller's
    texts; services hold none)."""
    reviewers = "; ".join(f"{role_words(r['role'])} {r['name']} {r['at']}" for r in view["reviewers"])
    row = {
        "notice_id": str(view["notice_id"]), "published_at": view["published_at"],
        "class": (view["klass"] or {}).get(lang, ""), "item": (view["item"] or {}).get(lang, ""),
        "period": period_words(view["period"], lang), "title": view["title"], "body": view["body"],
        "reviewers": reviewers,
        "posting_until": view["posting_until"] or "", "state": state_words(str(view["state"])),
        "retracted_at": view.get("retracted_at", ""), "reason": view.get("reason", ""),
    }
    return {key: safe_cell(value) for key, value in row.items()}


def safe_cell(value: str) -> str:
    """Text that a spreadsheet shows as text: a leading apostrophe defuses a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neighbour_quarters(policy: Policy, village: Village, quarter: str, now: datetime) -> tuple[str, str | None]:
    """(the quarter before, the quarter after or None when `quarter` is the current one: nothing is archived in
    the future)."""
    period = parse_quarter(quarter)
    later = period.next()
    return str(period.prev()), str(later) if later.start <= policy.today(village, now) else None


async def notice_to_open(session: AsyncSession, person_id: int, notice_id: int) -> Notice:
    """A published notice of a village the person belongs to (a tapped archive line, checked again here)."""
    notice = await session.get(Notice, notice_id) if 0 < notice_id < 2**31 else None
    if notice is None:
        raise DomainError("err.stale_button")
    await village_to_show(session, person_id, notice.village_id)
    if notice.state != State.PUBLISHED:
        raise DomainError("archive_nav.not_current")
    return notice
