"""Taps on a message Telegram no longer shows the bot (Bot API InaccessibleMessage, date 0), and on one whose
edit Telegram refuses after the tap: the decision is made once, the person is told in the tap's answer, and
nothing is logged as a crash (issue 11). Through the real Dispatcher with the fake Telegram on both databases."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import col, func, select

from fake_telegram import FakeUser
from models import Notice, Petition, ReviewDecision
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_notices_bot import draft_notice
from tests.voice_fixtures import seed as seed_voice

GONE = "原消息已无法显示或修改"


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


async def tap_inaccessible(h: Harness, user: FakeUser, label: str) -> None:
    """The button's message is one Telegram no longer shows the bot: the tap carries date 0 only."""
    chat = h.world.private_chat(user)
    message, data = h.find_button(chat, label)
    h.world.make_inaccessible(chat, message.message_id)
    h.world.user_taps(user, chat, message.message_id, data)
    await h.flush()


async def tap_then_gone(h: Harness, user: FakeUser, label: str) -> None:
    """The tap carries the whole message, which becomes inaccessible before the bot edits it."""
    chat = h.world.private_chat(user)
    message, data = h.find_button(chat, label)
    h.world.user_taps(user, chat, message.message_id, data)
    h.world.make_inaccessible(chat, message.message_id)
    await h.flush()


def _no_crash(caplog: pytest.LogCaptureFixture) -> None:
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert crashes == []


async def _decisions(h: Harness) -> int:
    async with h.runtime.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(ReviewDecision))).one())


async def _notice(h: Harness) -> Notice:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Notice).order_by(col(Notice.id)))).all()[-1]


async def test_review_taps_on_inaccessible_messages_decide_once_and_log_no_error(
        harness: Harness, cast: Cast, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    with caplog.at_level(logging.INFO):
        await tap_inaccessible(h, cast.secretary, "同意")
        assert GONE in h.last_alert() and "已同意" in h.last_alert()
        assert await _decisions(h) == 1 and (await _notice(h)).stage == 1
        await tap_inaccessible(h, cast.secretary, "同意")  # the same button again: decided already
        assert "已由" in h.last_alert() and await _decisions(h) == 1
        await tap_then_gone(h, cast.supervisor, "同意")  # the last stage: its edit is refused after the tap
        assert GONE in h.last_alert() and "发布" in h.last_alert()
    _no_crash(caplog)
    notice = await _notice(h)
    assert notice.state == "published" and await _decisions(h) == 2
    assert all(len(h.world.bot_messages(group)) == 1 for group in cast.groups)  # published once


async def test_a_retraction_tap_on_an_inaccessible_message_retracts_once(
        harness: Harness, cast: Cast, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    await h.say(cast.staff, "/archive")
    await h.tap(cast.staff, "撤回")
    await h.say(cast.staff, "数字有误，需重新核对")
    with caplog.at_level(logging.INFO):
        await tap_inaccessible(h, cast.secretary, "撤回")
        assert GONE in h.last_alert()
    _no_crash(caplog)
    assert (await _notice(h)).state == "retracted" and not h.world.bot_messages(cast.groups[0])


async def test_petition_taps_on_inaccessible_messages(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    cast = await seed_voice(h)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开村集体土地流转合同")
    await h.say(cast.resident, "请公开2025年以来全部土地流转合同及租金收支。")
    with caplog.at_level(logging.INFO):
        await tap_inaccessible(h, cast.resident, "跳过")  # the item choice: the petition is created
        assert GONE in h.last_alert()
        await tap_inaccessible(h, cast.staff, "确认受理")
        await h.open_link(cast.neighbour, "s_1")
        await tap_then_gone(h, cast.neighbour, "确认联署")
        assert GONE in h.last_alert()
    _no_crash(caplog)
    async with h.runtime.sessions() as session:
        [petition] = list(await session.exec(select(Petition)))
    # The starter signed by starting it and the neighbour's tap counted once: 2 of 20 villagers reach 1/10.
    assert petition.state == "granted" and petition.resident_count == 2


async def test_the_fake_telegram_sends_an_inaccessible_message_as_the_bot_api_does(harness: Harness,
                                                                                     cast: Cast) -> None:
    from aiogram.types import InaccessibleMessage, Update

    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    chat = h.world.private_chat(cast.secretary)
    message, data = h.find_button(chat, "同意")
    h.world.make_inaccessible(chat, message.message_id)
    h.world.user_taps(cast.secretary, chat, message.message_id, data)
    [raw] = h.world.take_updates()
    assert raw["callback_query"]["message"] == {"chat": chat.to_json(), "message_id": message.message_id, "date": 0}
    update = Update.model_validate(raw, context={"bot": h.bot})
    assert isinstance(update.callback_query and update.callback_query.message, InaccessibleMessage)
