"""Publication through the real Dispatcher beyond the happy path: attachments and the finance table from
the conversation to the groups and the filing group, /review, the live progress message, a double tap,
the posting period's unpin sweep, and corrections (attachments kept, one at a time, posted again where
Telegram refuses the edit, pinned for the correction's own period)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.base.clock import FakeClock
from models import Notice, OutboxMessage, Posting, ReviewDecision, Village
from reminders.scheduler import unpin_sweep
from tests.faults import FaultySession
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_notices_bot import draft_notice
from tests.runtime.test_delivery_bot import faulty


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


async def approve(h: Harness, cast: Cast) -> None:
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")


async def notice_rows(h: Harness) -> list[Notice]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(Notice).order_by(col(Notice.id))))


async def postings(h: Harness) -> list[Posting]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(Posting).order_by(col(Posting.id))))


def media(h: Harness, chat: object) -> list[str]:
    """What the bot's messages in a chat are: text, photo or document."""
    kinds = []
    for message in h.world.bot_messages(chat):  # type: ignore[arg-type]
        kinds.append("photo" if message.data.get("photo") else "document" if message.data.get("document")
                     else "text")
    return kinds


async def attach_two(h: Harness, cast: Cast) -> None:
    staff = cast.staff
    await h.tap(staff, "附件")
    h.world.user_sends_photo(staff, h.world.private_chat(staff))
    h.world.user_sends_document(staff, h.world.private_chat(staff), "2026Q1财务报表.xlsx")
    await h.flush()
    assert "已添加附件（共 2 个）" in h.last(staff)
    await h.tap(staff, "完成")


# --- attachments and the finance table ----------------------------------------------------------------

async def test_a_photo_and_a_document_go_from_the_draft_to_every_group_and_the_filing(harness: Harness,
                                                                                      cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await attach_two(h, cast)
    assert "附件 2 个" in h.last(cast.staff)
    await approve(h, cast)
    for group in cast.groups:
        assert media(h, group) == ["text", "photo", "document"]
        first = h.world.bot_messages(group)[0]
        assert "查看附件" in " ".join(first.buttons) and h.world.pinned(group)[0].message_id == first.message_id
    assert media(h, cast.filing) == ["text", "photo", "document"]
    assert h.world.bot_messages(cast.filing)[-1].data["document"]["file_name"] == "2026Q1财务报表.xlsx"
    for posting in await postings(h):
        assert len(posting.message_ids) == 1 and len(posting.attachment_ids) == 2 and posting.state == "posted"
    notice = (await notice_rows(h))[-1]
    await h.open_link(cast.resident, f"a_{notice.id}")  # the button under the notice: a deep link
    assert media(h, h.world.private_chat(cast.resident))[-2:] == ["photo", "document"]


async def test_finance_lines_become_an_aligned_table_with_a_total(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "财务明细")
    await h.say(cast.staff, "村道维修 12500\n保洁费 三千元")
    refused = h.last(cast.staff)
    assert "财务明细中有 1 行需要修改" in refused and "第 2 行「保洁费 三千元」：没有金额" in refused
    await h.say(cast.staff, "村道维修 12,500.00\n保洁费 3000\n路灯电费 ￥１２０．５")
    preview = "\n".join(h.texts(cast.staff)[-2:])
    table = ["村道维修  12,500.00", "保洁费     3,000.00", "路灯电费     120.50", "合计      15,620.50"]
    assert all(line in preview for line in table), preview
    await approve(h, cast)
    post = h.world.bot_messages(cast.groups[0])[0]
    assert all(line in post.text for line in table)
    pre = [e for e in post.data["entities"] if e["type"] == "pre"]
    assert pre and "合计" in post.text[pre[0]["offset"]:pre[0]["offset"] + pre[0]["length"]]


# --- review ------------------------------------------------------------------------------------------

async def test_review_lists_what_waits_for_me_and_its_buttons_work(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast, title="第一份")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")  # now waits for the committee
    await draft_notice(h, cast, title="第二份")
    await h.tap(cast.staff, "提交审核")  # waits for the secretary
    await h.say(cast.secretary, "/review")
    listed = "\n".join(h.texts(cast.secretary)[-2:])
    assert "第二份" in listed and "第一份" not in listed
    await h.say(cast.supervisor2, "/review")
    listed = "\n".join(h.texts(cast.supervisor2)[-2:])
    assert "第一份" in listed and "第二份" not in listed
    await h.say(cast.rival_secretary, "/review")
    assert h.last(cast.rival_secretary) == "目前没有等待您审核的内容。"
    await h.tap(cast.secretary, "同意")  # the button under /review's listing
    assert "请审核" in h.last(cast.supervisor) and "第二份" in h.last(cast.supervisor)


async def test_a_real_double_tap_decides_once(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    chat = h.world.private_chat(cast.secretary)
    message, data = h.find_button(chat, "同意")
    h.world.user_taps(cast.secretary, chat, message.message_id, data)
    h.world.user_taps(cast.secretary, chat, message.message_id, data)  # the same button, twice, at once
    first, second = h.world.take_updates()
    await asyncio.gather(h.feed(first), h.feed(second))
    await h.flush()
    answers = {a.get("text", "") for a in list(h.world.callback_answers.values())[-2:]}
    assert answers == {"已同意，已转交下一审核环节。", "已由 张书记 于 2026-04-03 10:00 处理。"}
    async with h.runtime.sessions() as session:
        decisions = list(await session.exec(select(ReviewDecision)))
    assert len(decisions) == 1
    assert sum("请审核" in t for t in h.texts(cast.supervisor)) == 1


# --- the author's live progress -------------------------------------------------------------------------

async def test_the_author_watches_the_count_go_up(runtime: object, world: object) -> None:
    from tests.harness import Harness as Driver

    h = Driver(runtime, world)  # type: ignore[arg-type]
    try:
        cast = await seed_village(h.runtime, h.world, groups=39)
        await h.flush()
        h.worker.progress.interval = 0  # edit after every group (production: at most every 2 s)
        await draft_notice(h, cast)
        await approve(h, cast)
        edits = [r.params["text"] for r in h.world.requests_for("editMessageText")
                 if int(r.params["chat_id"]) == cast.staff.id and r.ok]
        # the author hears the publication first, then the delivery summary, edited as the groups get it
        heard = h.texts(cast.staff)
        published = max(i for i, t in enumerate(heard) if "审核通过并发布" in t)
        summary = max(i for i, t in enumerate(heard) if "《2026年第一季度村级财务收支情况》" in t and "发送" in t)
        assert published < summary, heard[-3:]
        counts = [int(text.split("已发送 ")[1].split("/")[0]) for text in edits if "正在发送" in text]
        assert counts == sorted(counts)
        assert "发送完成：40/40" in heard[summary] or "发送完成：40/40" in edits[-1]
    finally:
        await h.bot.session.close()


# --- the posting period ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("profile", "last_pinned_day"), [("jiangyuan", 12), ("dawukou", 9)])
async def test_unpinned_when_the_posting_period_ends_and_never_twice(harness: Harness, cast: Cast, clock: FakeClock,
                                                                     profile: str, last_pinned_day: int) -> None:
    """Published on 3 April: jiangyuan keeps a notice up 10 days (T-KEEP10), dawukou 7 (T-KEEP7)."""
    h = harness
    async with h.runtime.sessions() as session:
        village = (await session.exec(select(Village).where(Village.code == "xinglong"))).one()
        village.profile = profile
        session.add(village)
        await session.commit()
    await h.say(cast.staff, "/draft")
    await h.tap(cast.staff, "临时公开")
    await h.say(cast.staff, "村道维修公示")
    await h.say(cast.staff, "村道维修完工，欢迎监督。")
    await h.tap(cast.staff, "完成")
    await approve(h, cast)
    until = date(2026, 4, last_pinned_day + 1)
    assert all(p.pin_until == until for p in await postings(h) if p.purpose == "residents")
    clock.set(datetime(2026, 4, last_pinned_day, 15, 30, tzinfo=UTC))  # 23:30 on the last day, village time
    assert await unpin_sweep(h.runtime) == 0
    clock.set(datetime(2026, 4, last_pinned_day, 16, 30, tzinfo=UTC))  # 00:30 the next day, village time
    assert await unpin_sweep(h.runtime) == 3
    assert await unpin_sweep(h.runtime) == 0  # queued once, even before it went out
    await h.flush()
    assert all(not h.world.pinned(g) for g in cast.groups)
    assert all(h.world.bot_messages(g) for g in cast.groups)  # unpinned, not deleted
    clock.advance(timedelta(days=1))
    assert await unpin_sweep(h.runtime) == 0
    await h.flush()
    assert len(h.world.requests_for("unpinChatMessage")) == 3
    assert all(not p.pinned and p.state == "posted" for p in await postings(h) if p.purpose == "residents")


# --- corrections ----------------------------------------------------------------------------------------

async def correct(h: Harness, cast: Cast, body: str) -> None:
    await h.say(cast.staff, "/archive")
    await h.tap(cast.staff, "更正")
    await h.tap(cast.staff, "改正文")
    await h.say(cast.staff, body)
    await h.tap(cast.staff, "完成")


async def test_a_correction_keeps_the_attachments_and_its_own_posting_period(harness: Harness, cast: Cast,
                                                                             clock: FakeClock) -> None:
    h = harness
    await draft_notice(h, cast)
    await attach_two(h, cast)
    await approve(h, cast)
    clock.advance(timedelta(days=12))  # the period is over and the notices were unpinned
    await unpin_sweep(h.runtime)
    await h.flush()
    assert not h.world.pinned(cast.groups[0])
    await correct(h, cast, "更正：本季度收入12.5万元。")
    assert "附件 2 个" in h.last(cast.staff)  # the original's attachments come with the correction
    await h.say(cast.staff, "/archive")
    await h.tap(cast.staff, "更正")  # a second correction while the first is open
    assert h.last_alert().startswith("这条内容已有一份更正稿（#2，王会计 起草）在处理中")
    await approve(h, cast)
    for group in cast.groups:
        assert media(h, group) == ["text", "photo", "document"]  # edited in place, files not sent again
        first = h.world.bot_messages(group)[0]
        assert first.edited and "【已更正】" in first.text and "12.5万元" in first.text
        assert "查看附件" in " ".join(first.buttons)
        assert [m.message_id for m in h.world.pinned(group)] == [first.message_id]  # up again, for its period
    corrected = [p for p in await postings(h) if p.purpose == "residents"]
    assert {p.pin_until for p in corrected} == {date(2026, 4, 25)} and all(p.pinned for p in corrected)
    clock.set(datetime(2026, 4, 24, 16, 30, tzinfo=UTC))  # 25 April in the village: the correction's period ends
    assert await unpin_sweep(h.runtime) == 3
    await h.flush()
    assert all(not h.world.pinned(g) for g in cast.groups)
    assert [n.state for n in await notice_rows(h)] == ["corrected", "published"]


async def test_a_correction_is_posted_again_where_telegram_refuses_the_edit(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await approve(h, cast)
    old = cast.groups[0]
    before = h.world.bot_messages(old)[0]
    await correct(h, cast, "更正：本季度收入12.5万元。")
    session: FaultySession = faulty(h)
    session.fail("editMessageText", chat_id=old.id, description="Bad Request: message can't be edited")
    await approve(h, cast)
    now = h.world.bot_messages(old)
    assert len(now) == 1 and now[0].message_id != before.message_id  # the old one deleted, the new one posted
    assert "【已更正】" in now[0].text and [m.message_id for m in h.world.pinned(old)] == [now[0].message_id]
    assert session.count("deleteMessage", old.id) == 1
    for group in cast.groups[1:]:
        edited = h.world.bot_messages(group)
        assert len(edited) == 1 and edited[0].edited and "【已更正】" in edited[0].text
    posting = next(p for p in await postings(h) if p.chat_id == old.id)
    assert posting.message_ids == [now[0].message_id] and posting.state == "posted"
    async with h.runtime.sessions() as db:
        edits = list(await db.exec(select(OutboxMessage).where(OutboxMessage.action == "edit")))
    assert {r.status for r in edits} == {"sent"}
