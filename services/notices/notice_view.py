"""A notice as people see it, as plain data: what templates render and outbox rows freeze."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice, Person, ReviewDecision, Village
from services.notices import finance_table
from services.people import official_numbers
from services.policy import Policy


async def decisions(session: AsyncSession, notice: Notice) -> list[tuple[ReviewDecision, Person]]:
    rows = await session.exec(
        select(ReviewDecision, Person).join(Person, col(Person.id) == ReviewDecision.person_id)
        .where(ReviewDecision.notice_id == notice.id, ReviewDecision.version == notice.version)
        .order_by(col(ReviewDecision.stage))
    )
    return list(rows)


async def notice_view(session: AsyncSession, policy: Policy, notice: Notice, *, published_on: date | None = None,
                      corrected: bool = False) -> dict[str, Any]:
    village = await session.get(Village, notice.village_id)
    assert village is not None
    item = policy.item(notice.item_id)
    klass = policy.registry.catalog(item.catalog_code).klass(item.class_code) if item else None
    reviewers = [
        {"role": d.role, "name": p.name, "at": policy.local(village, d.decided_at).strftime("%Y-%m-%d %H:%M")}
        for d, p in await decisions(session, notice) if d.decision == "approve"
    ]
    when = notice.published_at or notice.updated_at
    table = finance_table.parse_table(notice.table_text) if notice.table_text else None
    return {
        "notice_id": notice.id, "version": notice.version, "unit": policy.issuing_unit(village),
        "village": village.name, "title": notice.title, "body": notice.body,
        "table": {lang: finance_table.render_table(table, policy.label(lang, "table.total"), tuple(
            policy.label(lang, f"table.head.{c}") for c in ("item", *finance_table.STATEMENT_COLUMNS)))
            for lang in ("zh", "en")}
        if table else None,
        # a statement's cells, for the exports' real tables (the notice shows the aligned text above)
        "statement": {"rows": [[row.item, *(f"{a:,.2f}" for a in row.amounts)] for row in table.statement],
                      "totals": [f"{a:,.2f}" for a in table.totals]} if table and table.statement else None,
        "nothing_to_disclose": notice.nothing_to_disclose, "period": notice.period,
        "item": {"zh": item.zh_shown, "en": item.en, "id": item.full_id} if item else None,
        "klass": {"zh": klass.names.zh_shown, "en": klass.names.en} if klass else None,
        "published_on": (published_on or policy.today(village, when)).isoformat(),
        "posting_until": notice.posting_until.isoformat() if notice.posting_until else None,
        "reviewers": reviewers, "corrected": corrected, "state": notice.state,
        "supervision_phone": await official_numbers.supervision_phone(session, village),  # seed 004
    }
