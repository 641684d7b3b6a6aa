"""What a person is told stays true when the reply itself fails (bot.pipeline.middlewares): the update's changes are
committed before the bot says anything, so a timeout, a 429 or a 403 on "you are now staff" cannot roll
back the role that the person was (or may have been) told about."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlmodel import select

from bot.process.wiring import build_dispatcher
from fake_telegram import FakeUser
from models import Invite, ProcessedUpdate, RoleGrant
from services.people.onboarding import InviteOutcome
from tests.conftest import ADMIN_ID
from tests.directory.test_onboarding_bot import _invite_link
from tests.harness import Harness

ACCEPTED = "您已成为"  # bot/ui/templates/zh/invite_accepted.j2
LOST = "您的操作已经完成并保存"  # err.reply_lost
INTERNAL = "出了点问题"  # err.internal


async def _staff_invite(h: Harness) -> str:
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    return await _invite_link(h, admin, "兴隆村", "村务公开人员")


async def _granted(h: Harness, person: FakeUser) -> tuple[bool, bool]:
    """(the invite is used by this person, they hold the staff role)."""
    async with h.runtime.sessions() as session:
        invite = (await session.exec(select(Invite))).one()
        grants = list(await session.exec(select(RoleGrant).where(RoleGrant.role == "staff",
                                                                 RoleGrant.status == "active")))
    return invite.used_by is not None, len(grants) == 1


def _update_logged(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    return any(words in r.getMessage() and "update 1" in r.getMessage() for r in caplog.records)


async def test_accepted_invite_stays_when_its_reply_times_out(harness: Harness,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    payload = await _staff_invite(h)
    staff = h.world.new_user("王会计")
    h.world.fail_next("sendMessage", chat_id=staff.id, kind="timeout_before")
    await h.open_link(staff, payload)
    assert await _granted(h, staff) == (True, True)
    seen = h.texts(staff)
    assert len(seen) == 1 and LOST in seen[0] and INTERNAL not in seen[0]
    assert _update_logged(caplog, "reply failed")
    await h.say(staff, "/start")
    assert "村务公开人员 · 兴隆村" in h.last(staff)


async def test_reply_delivered_but_unconfirmed_is_not_called_a_failure(harness: Harness) -> None:
    h = harness
    payload = await _staff_invite(h)
    staff = h.world.new_user("王会计")
    h.world.fail_next("sendMessage", chat_id=staff.id, kind="timeout_after")
    await h.open_link(staff, payload)
    assert await _granted(h, staff) == (True, True)
    seen = h.texts(staff)
    assert ACCEPTED in seen[0] and LOST in seen[-1]
    assert not any(INTERNAL in text for text in seen)


async def test_a_429_on_the_reply_is_waited_out_and_sent_once(harness: Harness) -> None:
    h = harness
    payload = await _staff_invite(h)
    staff = h.world.new_user("王会计")
    h.world.fail_next("sendMessage", chat_id=staff.id, kind="429", retry_after=1)
    await h.open_link(staff, payload)
    assert await _granted(h, staff) == (True, True)
    seen = h.texts(staff)
    assert [ACCEPTED in text for text in seen].count(True) == 1
    assert not any(LOST in text or INTERNAL in text for text in seen)


async def test_a_person_who_blocked_the_bot_keeps_the_role_and_gets_no_second_try(
        harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    payload = await _staff_invite(h)
    staff = h.world.new_user("王会计")
    h.world.fail_next("sendMessage", chat_id=staff.id, kind="403")
    sends_before = len(h.world.requests_for("sendMessage"))
    await h.open_link(staff, payload)
    assert await _granted(h, staff) == (True, True)
    assert h.texts(staff) == []
    assert len(h.world.requests_for("sendMessage")) == sends_before + 1  # no error message thrown after it
    assert _update_logged(caplog, "reply failed")


async def test_a_refusal_still_changes_nothing(harness: Harness) -> None:
    """A domain error after nothing was said rolls the whole update back, as before."""
    h = harness
    payload = await _staff_invite(h)
    first, second = h.world.new_user("甲"), h.world.new_user("乙")
    await h.open_link(first, payload)
    h.world.fail_next("sendMessage", chat_id=second.id, kind="timeout_after")
    await h.open_link(second, payload)
    assert "已经被使用过" in h.texts(second)[0]
    async with h.runtime.sessions() as session:
        staff = list(await session.exec(select(RoleGrant).where(RoleGrant.role == "staff")))
    assert len(staff) == 1


# --- webhook mode: redelivery after a failure ---------------------------------------------------------------


async def _feed_twice(h: Harness, raw: dict[str, Any]) -> list[BaseException | None]:
    """Feed one update as a webhook instance would, then Telegram's redelivery of the same update."""
    outcomes: list[BaseException | None] = []
    for _ in range(2):
        try:
            await h.feed(raw)
            outcomes.append(None)
        except Exception as error:  # the webhook would answer 5xx: Telegram sends the update again
            outcomes.append(error)
        await h.worker.run_until_idle()
    return outcomes


async def test_webhook_redelivery_after_a_failed_reply_says_nothing_twice(harness: Harness) -> None:
    h = harness
    payload = await _staff_invite(h)
    h.dispatcher = build_dispatcher(h.runtime, confirm_after_handling=True)
    staff = h.world.new_user("王会计")
    h.world.user_opens_deep_link(staff, payload)
    (raw,) = h.world.take_updates()
    h.world.fail_next("sendMessage", chat_id=staff.id, kind="timeout_after")
    outcomes = await _feed_twice(h, raw)
    assert outcomes == [None, None]  # confirmed: what was done and said must not be done again
    assert await _granted(h, staff) == (True, True)
    seen = h.texts(staff)
    assert [ACCEPTED in text for text in seen].count(True) == 1
    assert not any("已经被使用过" in text for text in seen)


async def test_webhook_failure_before_anything_was_said_is_redelivered_and_done_once(
        harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from services.people import onboarding

    h = harness
    payload = await _staff_invite(h)
    h.dispatcher = build_dispatcher(h.runtime, confirm_after_handling=True)
    real = onboarding.redeem_invite
    calls: list[int] = []

    async def flaky(*args: Any, **kwargs: Any) -> InviteOutcome:
        calls.append(1)
        invite = await real(*args, **kwargs)
        if len(calls) == 1:
            raise RuntimeError("connection reset while granting")
        return invite

    monkeypatch.setattr(onboarding, "redeem_invite", flaky)
    staff = h.world.new_user("王会计")
    h.world.user_opens_deep_link(staff, payload)
    (raw,) = h.world.take_updates()
    with caplog.at_level(logging.ERROR, logger="cunwu.updates"):
        outcomes = await _feed_twice(h, raw)
    assert isinstance(outcomes[0], RuntimeError) and outcomes[1] is None
    assert await _granted(h, staff) == (True, True)
    seen = h.texts(staff)
    assert INTERNAL in seen[0] and ACCEPTED in seen[1]
    async with h.runtime.sessions() as session:
        claimed = list(await session.exec(select(ProcessedUpdate.update_id)))
    assert claimed == [raw["update_id"]]
    assert any(f"update {raw['update_id']} failed" in r.getMessage() for r in caplog.records)
