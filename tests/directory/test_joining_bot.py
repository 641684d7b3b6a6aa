"""Residents joining: /join CODE, the join deep link (and hand-edited ones), /pending, approve and decline,
and errors in the person's language."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import col, select

from fake_telegram import FakeUser
from models import RoleGrant
from tests.directory.test_onboarding_bot import _invite_link, _onboard_staff
from tests.harness import Harness


async def _resident_grants(h: Harness) -> list[tuple[str, int | None]]:
    async with h.runtime.sessions() as session:
        rows = await session.exec(select(RoleGrant).where(RoleGrant.role == "resident").order_by(col(RoleGrant.id)))
        return [(g.status, g.village_id) for g in rows]


@pytest.mark.parametrize("payload", ["j_²", "j_99999999999", "j_0", "j_-1", "j_12abc", "j_", "j_0x10"])
async def test_a_hand_edited_join_link_is_refused_plainly(harness: Harness, payload: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """Typed by hand after /start (a client opens only [A-Za-z0-9_-] links, a person can type anything)."""
    h = harness
    await _onboard_staff(h)
    someone = h.world.new_user("好奇的人")
    with caplog.at_level(logging.ERROR, logger="cunwu.updates"):
        await h.say(someone, f"/start {payload}")
    assert h.last(someone) == "这个链接不完整或已损坏。"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # a refusal, not an internal error
    assert await _resident_grants(h) == []


async def test_a_join_link_of_a_village_that_does_not_exist(harness: Harness) -> None:
    h = harness
    await _onboard_staff(h)
    someone = h.world.new_user("好奇的人")
    await h.open_link(someone, "j_4242")
    assert h.last(someone) == "找不到这个村。"


async def test_join_by_code_pending_list_and_decline(harness: Harness) -> None:
    h = harness
    _, staff, _ = await _onboard_staff(h)
    await h.say(staff, "/pending")
    assert h.last(staff) == "目前没有待确认的村民。"
    resident = h.world.new_user("李大爷")
    await h.say(resident, "/join nosuchvillage")
    assert "/join 加村代码" in h.last(resident)
    await h.say(resident, "/join xinglong")
    assert "已收到您加入" in h.last(resident) and "兴隆村" in h.last(resident)
    await h.say(resident, "/join xinglong")
    assert h.last(resident) == "您加入兴隆村的申请正在等待工作人员确认。"
    assert await _resident_grants(h) == [("pending", 1)]
    await h.say(staff, "/pending")
    assert "李大爷" in h.last(staff) and "申请加入" in h.last(staff)
    await h.tap(staff, "拒绝")
    assert h.last_alert() == "已拒绝 李大爷 的申请。"
    assert "未被确认" in h.last(resident)
    assert await _resident_grants(h) == [("declined", 1)]
    await h.say(staff, "/pending")
    assert h.last(staff) == "目前没有待确认的村民。"
    await h.say(resident, "/join xinglong")  # asking again after a decline is allowed
    assert await _resident_grants(h) == [("pending", 1)]


async def test_two_staff_deciding_the_same_request_first_one_wins(harness: Harness) -> None:
    h = harness
    admin, staff, _ = await _onboard_staff(h)
    colleague = h.world.new_user("赵文书")
    await h.open_link(colleague, await _invite_link(h, admin, "兴隆村", "村务公开人员"))
    resident = h.world.new_user("李大爷")
    await h.say(resident, "/join xinglong")
    assert "李大爷" in h.last(staff) and "李大爷" in h.last(colleague)
    await h.tap(staff, "同意")
    await h.tap(colleague, "拒绝")
    assert h.last_alert() == "这件事已经处理过了。"
    assert await _resident_grants(h) == [("active", 1)]
    assert "已确认您是" in h.last(resident)


async def test_errors_answer_in_english_for_an_english_client(harness: Harness) -> None:
    h = harness
    await _onboard_staff(h)
    visitor = h.world.new_user("Alice", language_code="en")
    await h.say(visitor, "/start j_²")
    assert h.last(visitor) == "This link is incomplete or damaged."
    await h.say(visitor, "/bind")
    assert "private" in h.last(visitor).lower()
    await h.say(visitor, "/frobnicate")
    assert h.last(visitor) == "There is no such command. Send /help to see what you can do."


async def test_an_internal_error_is_logged_with_the_update_id_and_answered_in_english(
        harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    visitor: FakeUser = h.world.new_user("Alice", language_code="en-US")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("services.people.directory.memberships", broken)
    h.world.user_sends(visitor, h.world.private_chat(visitor), "/start")
    (raw,) = h.world.take_updates()
    with caplog.at_level(logging.ERROR, logger="cunwu.updates"):
        await h.feed(raw)
    assert h.last(visitor) == "Sorry, something went wrong on our side; it has been logged. Please try again later."
    failed = [r for r in caplog.records if r.name == "cunwu.updates"]
    assert len(failed) == 1 and failed[0].exc_info is not None
    assert failed[0].getMessage() == f"update {raw['update_id']} failed"
    assert "disk on fire" not in h.last(visitor)
