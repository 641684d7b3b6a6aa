"""A role taken away outside the bot (`cunwu admin import`, another instance, an operator's SQL) counts from
the person's very next update: nothing about roles is remembered between updates (bot/pipeline/acting.py)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from models import RoleGrant
from services.people import directory
from tests.harness import Harness
from tests.notice_fixtures import seed_village
from tests.notices.test_notices_bot import draft_notice
from tests.test_security import NOT_ROLE, _rows


async def test_a_role_revoked_directly_in_the_database_is_refused_on_the_next_tap(harness: Harness) -> None:
    """`cunwu admin import` or another instance revokes a role in the database, not through this process:
    the very next tap of the person is checked against the database, not against anything remembered."""
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await draft_notice(h, cast, title="修路账目")
    await h.tap(cast.staff, "改标题")
    assert "请发送公开内容的标题" in h.last(cast.staff)
    await h.say(cast.staff, "修路账目（更正）")
    async with h.runtime.sessions() as session:
        staff_id = (await directory.person_by_tg(session, cast.staff.id)).id  # type: ignore[union-attr]
    async with h.runtime.engine.begin() as connection:  # a bare connection, as another process would use
        revoked = await connection.execute(
            update(RoleGrant).where(col(RoleGrant.person_id) == staff_id, col(RoleGrant.role) == "staff")
            .values(status="revoked"))
        assert revoked.rowcount == 1
    before = await _rows(h)
    await h.tap(cast.staff, "改标题")
    assert NOT_ROLE in h.last_alert() + h.last(cast.staff)
    await h.say(cast.staff, "/draft")
    assert NOT_ROLE in h.last(cast.staff)
    assert await _rows(h) == before
