"""/archive opens each notice on tap and pages by quarter (issue 12, point 6); a tap is checked again on the
server (another village's notice, a retracted one)."""

from __future__ import annotations

import pytest

from bot.base.clock import FakeClock
from bot.ui.keyboards.notices import ArchiveOpen
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_archive_bot import publish, retract_last


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


async def test_archive_opens_each_notice_and_pages_by_quarter(harness: Harness, cast: Cast,
                                                              clock: FakeClock) -> None:
    h = harness
    await publish(h, cast, "三月村务会议纪要", "会议决定修缮村道。")
    await h.say(cast.resident, "/archive")
    listing = h.world.bot_messages(h.world.private_chat(cast.resident))[-1]
    assert "其他季度：/archive" not in listing.text and "三月村务会议纪要" in listing.text
    assert any("三月村务会议纪要" in b for b in listing.buttons) and "下一季度 ➡️" not in listing.buttons
    await h.tap(cast.resident, "三月村务会议纪要")
    assert "会议决定修缮村道。" in h.last(cast.resident)
    await h.tap(cast.resident, "上一季度")
    assert "本季度还没有公开内容" in h.last(cast.resident)
    assert "下一季度 ➡️" in h.world.bot_messages(h.world.private_chat(cast.resident))[-1].buttons
    await h.tap(cast.resident, "下一季度")
    assert "三月村务会议纪要" in h.last(cast.resident)


async def test_an_archive_tap_is_checked_again(harness: Harness, cast: Cast) -> None:
    h = harness
    await publish(h, cast, "三月村务会议纪要", "会议决定修缮村道。")
    await h.say(cast.resident, "/archive")
    chat = h.world.private_chat(cast.resident)
    listing = h.world.bot_messages(chat)[-1]
    notice_id = int(next(iter(listing.callback_data())).split(":")[1])
    await h.forge_tap(cast.rival, h.world.private_chat(cast.rival), 1, ArchiveOpen(notice_id=notice_id).pack())
    assert "会议决定修缮村道" not in h.last(cast.rival)
    await retract_last(h, cast, "数据有误")
    await h.forge_tap(cast.resident, chat, listing.message_id, ArchiveOpen(notice_id=notice_id).pack())
    assert "不再是现行的公开内容" in h.last_alert() or "不再是现行的公开内容" in h.last(cast.resident)
