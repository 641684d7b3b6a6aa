"""The village's published notices by quarter, for /archive and `cunwu admin export-archive`."""

from __future__ import annotations

from datetime import datetime, time

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Period
from models import Notice, Village
from services.errors import DomainError
from services.policy import Policy
from services.workflow import State

SHOWN = (State.PUBLISHED, State.RETRACTED)


def quarter_bounds(policy: Policy, village: Village, quarter: str) -> tuple[datetime, datetime]:
    try:
        period = Period.parse(quarter)
    except ValueError as error:
        raise DomainError("archive.bad_quarter", quarter=quarter) from error
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


async def export_rows(session: AsyncSession, policy: Policy, village_code: str,
                      quarter: str) -> tuple[Village, list[dict]]:
    """The quarter's notices as plain rows (for the CSV and the printable page), oldest first."""
    from services.directory import village_by_code
    from services.notice_view import notice_view

    village = await village_by_code(session, village_code)
    if village is None:
        raise DomainError("err.no_village")
    rows = []
    for notice in await published_in(session, policy, village, quarter):
        view = await notice_view(session, policy, notice)
        view["published_at"] = policy.local(village, notice.published_at).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
        rows.append(view)
    return village, rows


CSV_FIELDS = ("notice_id", "published_at", "class", "item", "period", "title", "body", "reviewers", "posting_until",
              "state")


def csv_row(view: dict, lang: str = "zh") -> dict[str, str]:
    reviewers = "; ".join(f"{r['role']} {r['name']} {r['at']}" for r in view["reviewers"])
    return {
        "notice_id": str(view["notice_id"]), "published_at": view["published_at"],
        "class": (view["klass"] or {}).get(lang, ""), "item": (view["item"] or {}).get(lang, ""),
        "period": view["period"] or "", "title": view["title"], "body": view["body"], "reviewers": reviewers,
        "posting_until": view["posting_until"] or "", "state": view["state"],
    }
