"""The delivery worker under faults: killed in the middle of a 200-group broadcast and restarted, a group
that removed the bot, a 429, a group upgraded to a supergroup, a read timeout.

In-process (the production Dispatcher and DeliveryWorker over the fake session), on both databases.
A notice is approved with the real buttons; the broadcast it queues is then delivered under the fault.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from sqlmodel import col, select

from bot.base.clock import FakeClock
from bot.delivery.worker import DeliveryWorker
from bot.process.wiring import build_bot
from fake_telegram import FakeChat, FakeSession, FakeTelegram
from models import BoundChat, OutboxMessage, Posting
from tests.harness import UNLIMITED, Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_notices_bot import draft_notice

TITLE = "2026年第一季度村级财务收支情况"


async def approve_without_delivering(h: Harness, groups: int = 3) -> Cast:
    """Draft, submit and approve twice; the final approval's broadcast stays in the outbox."""
    cast = await seed_village(h.runtime, h.world, groups=groups)
    await h.flush()
    await draft_notice(h, cast, title=TITLE)
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    message, data = h.find_button(h.world.private_chat(cast.supervisor), "同意")
    h.world.user_taps(cast.supervisor, h.world.private_chat(cast.supervisor), message.message_id, data)
    for raw in h.world.take_updates():
        await h.feed(raw)
    return cast


def copies(world: FakeTelegram, chat: FakeChat | int) -> int:
    return sum(1 for m in world.bot_messages(chat) if TITLE in m.text)


async def outbox(h: Harness, *statuses: str) -> list[OutboxMessage]:
    async with h.runtime.sessions() as session:
        rows = await session.exec(select(OutboxMessage).where(col(OutboxMessage.status).in_(statuses)))
        return list(rows)


class KillAfter(FakeSession):
    """Cancels `task` right after Telegram accepted the n-th notice sent to a group: the worst moment,
    when the message exists but the worker has not recorded it (a process killed mid-request)."""

    def __init__(self, world: FakeTelegram, sends: int) -> None:
        super().__init__(world)
        self.left = sends
        self.task: asyncio.Task[Any] | None = None

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:  # noqa: ASYNC109
        result = await super().make_request(bot, method, timeout)
        if method.__api_method__ == "sendMessage" and int(getattr(method, "chat_id", 0)) < 0:
            self.left -= 1
            if self.left == 0 and self.task is not None:
                self.task.cancel()
                await asyncio.sleep(0)  # the cancellation lands here, before the worker records the send
        return result


async def test_worker_killed_mid_broadcast_resumes_exactly_once(harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await approve_without_delivering(h, groups=200)
    assert len(await outbox(h, "pending")) >= 201  # 200 groups + filing (+ the author's messages)
    killer = KillAfter(h.world, sends=80)
    first = DeliveryWorker(h.runtime, build_bot(h.runtime, session=killer), UNLIMITED)
    killer.task = asyncio.create_task(first.run_until_idle())
    try:
        await killer.task
    except asyncio.CancelledError:
        pass
    assert killer.task.cancelled()
    delivered_before = sum(copies(h.world, g) for g in cast.groups)
    assert 80 <= delivered_before < 200
    assert len(await outbox(h, "sending")) == 1  # the one that was in flight

    second = DeliveryWorker(h.runtime, build_bot(h.runtime, session=FakeSession(h.world)), UNLIMITED)
    if h.runtime.settings.database_url.startswith("postgresql"):
        # Other workers may be alive on PostgreSQL: a dead one's claim is recovered when its lease runs out.
        clock.advance(second.lease + timedelta(seconds=1))
    assert await second.recover(startup=True) == 1
    await second.run_until_idle()

    uncertain = await outbox(h, "uncertain")
    assert len(uncertain) <= 1  # at most one per kill (DELIVERY_CONCURRENCY=1)
    assert [copies(h.world, g) for g in cast.groups] == [1] * 200  # the uncertain one was not resent
    assert copies(h.world, cast.filing) == 1
    assert not await outbox(h, "pending", "sending")
    report = h.texts(cast.staff)
    assert any("发送完成：200/201" in t and "不确定是否送达" in t for t in report), report[-1]


async def test_group_that_removed_the_bot_is_marked_inactive_and_staff_told(harness: Harness) -> None:
    h = harness
    cast = await approve_without_delivering(h)
    lost = cast.groups[1]
    h.world.remove_bot_from_group(lost)  # while the broadcast is still in the outbox
    await h.flush()
    assert copies(h.world, lost) == 0
    assert [copies(h.world, g) for g in (cast.groups[0], cast.groups[2], cast.filing)] == [1, 1, 1]
    async with h.runtime.sessions() as session:
        chat = (await session.exec(select(BoundChat).where(BoundChat.chat_id == lost.id))).one()
    assert not chat.active
    staff_saw = "\n".join(h.texts(cast.staff))
    assert "无法在群" in staff_saw and "发送失败" in staff_saw


async def test_retry_after_is_waited_out_then_delivered_once(harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await approve_without_delivering(h)
    slow = cast.groups[0]
    h.world.fail_next("sendMessage", chat_id=slow.id, kind="429", retry_after=5)
    await h.worker.run_until_idle()
    assert copies(h.world, slow) == 0 and copies(h.world, cast.groups[1]) == 1
    assert h.worker.retry_after_count == 1
    clock.advance(timedelta(seconds=2))
    await h.worker.run_until_idle()
    assert copies(h.world, slow) == 0  # retry_after is 5 s: not before
    clock.advance(timedelta(seconds=4))
    await h.worker.run_until_idle()
    assert copies(h.world, slow) == 1 and h.world.count_429 == 1


async def test_migrated_group_is_followed_and_delivered_once(harness: Harness) -> None:
    h = harness
    cast = await approve_without_delivering(h)
    old = cast.groups[2]
    upgraded = h.world.migrate_group(old)  # upgraded to a supergroup while the broadcast waits
    h.world.take_updates()  # the service messages; the bot learns of the move from the 400 answer
    await h.flush()
    async with h.runtime.sessions() as session:
        chat_ids = {c.chat_id for c in await session.exec(select(BoundChat))}
        postings = [p.state for p in await session.exec(select(Posting))]
    new_ids = chat_ids - {g.id for g in cast.groups} - {cast.filing.id}
    assert old.id not in chat_ids and len(new_ids) == 1
    new = new_ids.pop()
    assert new == upgraded.id
    assert copies(h.world, new) == 1 and copies(h.world, old) == 0
    assert [m.message_id for m in h.world.pinned(new)] and postings == ["posted"] * 4
    async with h.runtime.sessions() as session:
        posted_in = {p.chat_id for p in await session.exec(select(Posting))}
    assert new in posted_in and old.id not in posted_in  # later edits, pins and deletes go to the new chat


async def test_read_timeout_leaves_the_row_uncertain_and_named(harness: Harness) -> None:
    h = harness
    cast = await approve_without_delivering(h)
    unsure = cast.groups[0]
    h.world.fail_next("sendMessage", chat_id=unsure.id, kind="timeout_after")
    await h.flush()
    await h.flush()
    assert copies(h.world, unsure) == 1  # Telegram got it; the bot could not know and did not resend
    rows = await outbox(h, "uncertain")
    assert [r.chat_id for r in rows] == [unsure.id]
    final = h.texts(cast.staff)
    assert any("发送完成：3/4" in t and "不确定是否送达" in t and str(unsure.title) in t for t in final), final[-3:]
