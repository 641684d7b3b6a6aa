"""Delivery through the real Dispatcher and worker: long notices in parts (to reviewers and groups), a
retraction while the broadcast is going out, per-part progress across a 429 or a timeout, and every kind
of Telegram error decided (retry or fail) without leaving a row in `sending`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiogram.exceptions import TelegramNetworkError
from sqlmodel import col, select

from bot.base.clock import FakeClock
from bot.delivery.worker import DeliveryWorker
from bot.process.wiring import build_bot
from bot.ui.splitting import MESSAGE_LIMIT
from fake_telegram import FakeChat, FakeMessage
from models import OutboxMessage, Posting
from services.people import directory
from services.people.roles import Role
from tests.faults import FaultySession
from tests.harness import UNLIMITED, Harness
from tests.notice_fixtures import Cast, seed_village

FAMILY = "👨\u200d👩\u200d👧"  # one grapheme of five code points: must never be cut
TITLE = "2026年第一季度村级财务收支情况（长文）"


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


def faulty(h: Harness) -> FaultySession:
    """From now on the worker talks to Telegram through a session that fails on demand."""
    session = FaultySession(h.world)
    h.worker = DeliveryWorker(h.runtime, build_bot(h.runtime, session=session), UNLIMITED)
    return session


def long_body(paragraphs: int = 42) -> str:
    """About 20,000 characters: markup characters, emoji and a ZWJ family in every paragraph."""
    return "\n\n".join(
        f"第{n}段：收入<b>12万元</b> & 支出“8万元”{FAMILY}，" + "账目公开透明，接受村民监督。" * 32
        for n in range(1, paragraphs + 1))


def chunks(text: str, size: int = 4000) -> list[str]:
    """What a person pastes: Telegram takes at most 4096 characters per message."""
    return [text[i:i + size] for i in range(0, len(text), size)]


TABLE = "\n".join(f"第{i}段村道维修 {1000 + i}.50" for i in range(1, 181))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def draft_long(h: Harness, cast: Cast, body: str, table: str | None = None) -> None:
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.tap(staff, "临时公开")
    await h.say(staff, TITLE)
    for piece in chunks(body):
        await h.say(staff, piece)
    await h.tap(staff, "完成")
    if table:
        await h.tap(staff, "财务明细")
        await h.say(staff, table)


def notice_parts(h: Harness, chat: FakeChat) -> list[FakeMessage]:
    """The bot's messages in `chat` from the notice's first part on."""
    messages = h.world.bot_messages(chat)
    first = next(i for i, m in enumerate(messages) if TITLE in m.text)
    return messages[first:]


def assert_whole(parts: list[FakeMessage], body: str) -> None:
    """Each part within Telegram's limit, no grapheme cut, and together the whole body."""
    for part in parts:
        assert len(part.text.encode("utf-16-le")) // 2 <= MESSAGE_LIMIT
        assert part.text.count(FAMILY) == part.text.count("👨") == part.text.count("👧")
    assert squash(body) in squash("".join(p.text for p in parts))


async def rows(h: Harness, *statuses: str) -> list[OutboxMessage]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(OutboxMessage).where(col(OutboxMessage.status).in_(statuses))
                                       .order_by(col(OutboxMessage.id))))


async def postings(h: Harness) -> list[Posting]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(Posting).order_by(col(Posting.id))))


# --- 1. a 20,000-character notice reaches the reviewers and the groups --------------------------------

async def test_a_20000_character_notice_is_reviewed_and_published_in_parts(harness: Harness, cast: Cast) -> None:
    h = harness
    body = long_body()
    assert len(body) >= 20_000
    await draft_long(h, cast, body, TABLE)
    await h.tap(cast.staff, "提交审核")
    assert "等待党组织书记审核" in h.last(cast.staff)

    review = notice_parts(h, h.world.private_chat(cast.secretary))
    assert len(review) >= 6 and "请审核" in review[0].text
    assert_whole(review, body)
    assert any("同意" in b for b in review[-1].buttons)  # the buttons come after the whole text
    assert not any(m.buttons for m in review[:-1])
    await h.tap(cast.secretary, "同意")
    assert_whole(notice_parts(h, h.world.private_chat(cast.supervisor)), body)
    await h.tap(cast.supervisor, "同意")

    for group in [*cast.groups, cast.filing]:
        parts = notice_parts(h, group)
        assert_whole(parts, body)
        table_lines = [line for line in TABLE.splitlines()]
        shown = "".join(p.text for p in parts)
        assert all(line.split()[0] in shown for line in table_lines) and "合计" in shown
        pre = [p for p in parts if any(e["type"] == "pre" for e in p.data.get("entities", []))]
        assert pre and all("村道维修" in p.text or "合计" in p.text for p in pre)  # the table stays in <pre>
    for group in cast.groups:
        parts = notice_parts(h, group)
        assert "我要提问" in " ".join(parts[0].buttons) and not any(p.buttons for p in parts[1:])
        assert [m.message_id for m in h.world.pinned(group)] == [parts[0].message_id]
    assert not await rows(h, "failed", "uncertain", "pending", "sending")
    found = await postings(h)
    assert all(p.state == "posted" and len(p.message_ids) == len(notice_parts(h, cast.groups[0])) for p in found)
    assert any("发送完成：4/4" in t for t in h.texts(cast.staff))


# --- 2. retraction while the broadcast is going out ----------------------------------------------------

async def make_secretary_staff(h: Harness, cast: Cast) -> None:
    """In a small village the secretary also keeps the notices (and may then retract at once)."""
    async with h.runtime.sessions() as session:
        person = await directory.person_by_tg(session, cast.secretary.id)
        assert person is not None and person.id is not None
        village = (await directory.villages_where(session, person.id, Role.SECRETARY))[0]
        await directory.grant_role(session, person.id, Role.STAFF, village_id=village.id)
        await session.commit()


async def approve_and_hold(h: Harness, cast: Cast, body: str = "本季度收入12万元。") -> None:
    """Draft, submit, approve twice; the last approval's broadcast stays queued (the worker does not run)."""
    await draft_long(h, cast, body)
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await feed_tap(h, cast.supervisor, "同意")


async def feed(h: Harness) -> None:
    for raw in h.world.take_updates():
        await h.feed(raw)


async def feed_tap(h: Harness, user: object, label: str) -> None:
    chat = h.world.private_chat(user)  # type: ignore[arg-type]
    message, data = h.find_button(chat, label)
    h.world.user_taps(user, chat, message.message_id, data)  # type: ignore[arg-type]
    await feed(h)


async def retract_now(h: Harness, cast: Cast) -> None:
    """The secretary (who also keeps the notices) retracts from /archive, through the Dispatcher."""
    secretary = cast.secretary
    h.world.user_sends(secretary, h.world.private_chat(secretary), "/archive")
    await feed(h)
    await feed_tap(h, secretary, "撤回")
    h.world.user_sends(secretary, h.world.private_chat(secretary), "身份证号未打码，立即撤回")
    await feed(h)


async def test_retraction_before_the_broadcast_went_out_sends_nothing(harness: Harness, cast: Cast) -> None:
    h = harness
    await make_secretary_staff(h, cast)
    await approve_and_hold(h, cast)
    assert len([r for r in await rows(h, "pending") if r.action == "post"]) == 4
    await retract_now(h, cast)
    assert "已撤回" in h.last(cast.secretary)
    await h.flush()
    for group in [*cast.groups, cast.filing]:
        assert not [m for m in h.world.bot_messages(group) if TITLE in m.text]
    cancelled = await rows(h, "cancelled")
    assert [r.action for r in cancelled] == ["post"] * 4
    assert all(p.state == "removed" for p in await postings(h))
    assert any("已被撤回" in t or "撤回" in t for t in h.texts(cast.staff))


async def test_retraction_while_a_long_post_is_in_flight_deletes_what_went_out(harness: Harness, cast: Cast) -> None:
    h = harness
    await make_secretary_staff(h, cast)
    body = long_body(20)  # three parts
    await approve_and_hold(h, cast, body)
    session = faulty(h)
    first = cast.groups[0]

    async def secretary_retracts() -> None:
        await retract_now(h, cast)

    # Right after part 1 reached the first group, the secretary retracts (another update, another transaction).
    session.after("sendMessage", secretary_retracts, chat_id=first.id)
    await h.flush()
    assert session.count("sendMessage", first.id) == 1  # parts 2 and 3 never went
    assert not [m for m in h.world.bot_messages(first) if TITLE in m.text or "账目公开" in m.text]
    for group in [*cast.groups[1:], cast.filing]:
        assert session.count("sendMessage", group.id) == 0
    assert all(p.state == "removed" for p in await postings(h))
    statuses = {r.chat_id: r.status for r in await rows(h, "cancelled", "sent") if r.action == "post"}
    assert set(statuses.values()) == {"cancelled"}
    assert not await rows(h, "pending", "sending", "failed")


# --- 3. a 429 or a timeout part-way through a post ----------------------------------------------------

async def test_a_429_after_part_one_continues_with_part_two(harness: Harness, cast: Cast, clock: FakeClock) -> None:
    h = harness
    body = long_body(20)
    await approve_and_hold(h, cast, body)
    session = faulty(h)
    group = cast.groups[0]

    async def telegram_says_429() -> None:
        session.fail("sendMessage", chat_id=group.id, status=429, retry_after=5)

    session.after("sendMessage", telegram_says_429, chat_id=group.id)
    await h.flush()
    assert len(notice_parts(h, group)) == 1  # part 1 is there; part 2 waits out retry_after
    clock.advance(timedelta(seconds=6))
    await h.flush()
    parts = notice_parts(h, group)
    assert len(parts) == 3 and session.count("sendMessage", group.id) == 4  # 3 parts + the refused one
    assert len(notice_parts(h, cast.groups[1])) == 3
    assert_whole(parts, body)
    assert [m.message_id for m in h.world.pinned(group)] == [parts[0].message_id]
    posting = next(p for p in await postings(h) if p.chat_id == group.id)
    assert posting.message_ids == [p.message_id for p in parts] and posting.state == "posted"


async def test_a_failed_pin_never_sends_the_notice_again(harness: Harness, cast: Cast, clock: FakeClock) -> None:
    h = harness
    await approve_and_hold(h, cast)
    session = faulty(h)
    timeout, refused, limited = cast.groups
    session.fail("pinChatMessage", chat_id=timeout.id, error=TelegramNetworkError(method=None,  # type: ignore[arg-type]
                                                                                   message="Request timeout error"))
    session.fail("pinChatMessage", chat_id=refused.id, description="Bad Request: not enough rights to pin a message")
    session.fail("pinChatMessage", chat_id=limited.id, status=429, retry_after=5)
    await h.flush()
    clock.advance(timedelta(seconds=6))
    await h.flush()
    for group in cast.groups:
        assert len(notice_parts(h, group)) == 1 and session.count("sendMessage", group.id) == 1
    assert h.world.pinned(timeout) and h.world.pinned(limited) and not h.world.pinned(refused)
    by_chat = {p.chat_id: p for p in await postings(h)}
    assert by_chat[timeout.id].pinned and by_chat[limited.id].pinned and not by_chat[refused.id].pinned
    assert {p.state for p in by_chat.values()} == {"posted"}


async def test_a_timeout_during_the_attachments_keeps_the_text_and_resends_nothing(harness: Harness,
                                                                                   cast: Cast) -> None:
    h = harness
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.tap(staff, "临时公开")
    await h.say(staff, TITLE)
    await h.say(staff, "财务报表见附件。")
    await h.tap(staff, "完成")
    await h.tap(staff, "附件")
    h.world.user_sends_photo(staff, h.world.private_chat(staff))
    h.world.user_sends_document(staff, h.world.private_chat(staff), "2026Q1财务报表.xlsx")
    await h.flush()
    await h.tap(staff, "完成")
    await h.tap(staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await feed_tap(h, cast.supervisor, "同意")
    session = faulty(h)
    group = cast.groups[0]
    session.fail("sendDocument", chat_id=group.id, error=TelegramNetworkError(method=None,  # type: ignore[arg-type]
                                                                              message="Request timeout error"))
    await h.flush()
    await h.flush()
    assert session.count("sendMessage", group.id) == 1 and session.count("sendPhoto", group.id) == 1
    assert session.count("sendDocument", group.id) == 1  # the one that timed out: not sent again
    posting = next(p for p in await postings(h) if p.chat_id == group.id)
    assert posting.state == "uncertain" and len(posting.message_ids) == 2  # the text and the photo it confirmed
    other = cast.groups[1]
    assert [bool(m.data.get("photo")) or bool(m.data.get("document")) for m in notice_parts(h, other)] == [
        False, True, True]
    report = next(t for t in h.texts(cast.staff) if "发送完成" in t)
    assert "不确定是否送达" in report and str(group.title) in report


# --- 4. every kind of Telegram error is decided -------------------------------------------------------

async def test_server_errors_are_retried_and_bad_requests_fail(harness: Harness, cast: Cast, clock: FakeClock) -> None:
    h = harness
    await approve_and_hold(h, cast)
    session = faulty(h)
    flaky, refused, fine = cast.groups
    session.fail("sendMessage", chat_id=flaky.id, status=502, description="Bad Gateway", times=2)
    session.fail("sendMessage", chat_id=refused.id, description="Bad Request: chat not found")
    await h.flush()
    assert not await rows(h, "sending")
    assert len(notice_parts(h, fine)) == 1 and not h.world.bot_messages(refused)
    clock.advance(timedelta(seconds=6))
    await h.flush()
    clock.advance(timedelta(seconds=11))
    await h.flush()
    assert len(notice_parts(h, flaky)) == 1 and session.count("sendMessage", flaky.id) == 3
    by_chat = {p.chat_id: p.state for p in await postings(h)}
    assert by_chat[flaky.id] == "posted" and by_chat[refused.id] == "failed"
    failed = [r for r in await rows(h, "failed") if r.chat_id == refused.id]
    assert failed and "chat not found" in (failed[0].error or "")
    assert "发送失败：兴隆村村民群2" in "\n".join(h.texts(cast.staff))


async def test_a_revoked_token_or_a_wrong_api_address_waits_and_loses_nothing(harness: Harness, cast: Cast,
                                                                             clock: FakeClock,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    await approve_and_hold(h, cast)
    session = faulty(h)
    session.fail("sendMessage", status=401, description="Unauthorized", times=1)
    session.fail("sendMessage", status=404, description="Not Found", times=1)
    await h.flush()
    assert not await rows(h, "sending", "failed")
    assert "check BOT_TOKEN" in caplog.text
    clock.advance(timedelta(seconds=61))
    await h.flush()
    for group in cast.groups:
        assert len(notice_parts(h, group)) == 1
    assert not await rows(h, "pending", "sending", "failed", "uncertain")


async def test_an_unexpected_error_leaves_no_row_sending_and_others_go_on(harness: Harness, cast: Cast,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    await approve_and_hold(h, cast)
    session = faulty(h)
    broken = cast.groups[1]
    session.fail("sendMessage", chat_id=broken.id, error=RuntimeError("driver exploded"))
    await h.flush()
    assert not await rows(h, "sending", "pending")
    row = next(r for r in await rows(h, "uncertain") if r.chat_id == broken.id)
    assert "driver exploded" in (row.error or "") and f"outbox {row.id}" in caplog.text
    assert len(notice_parts(h, cast.groups[0])) == 1 and len(notice_parts(h, cast.groups[2])) == 1


async def test_the_keepers_probes_take_their_turn_from_the_shared_limiters(harness: Harness, cast: Cast) -> None:
    from bot.delivery.keeper import keep_postings
    from bot.delivery.limits import ChatLimiters

    class Counting(ChatLimiters):
        def __init__(self) -> None:
            super().__init__()
            self.turns: list[int] = []

        async def acquire(self, chat_id: int) -> None:
            self.turns.append(chat_id)
            await super().acquire(chat_id)

    h = harness
    await draft_long(h, cast, "本季度收入12万元。")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    h.runtime.limiters = counting = Counting()
    assert await keep_postings(h.runtime, h.bot) == {"checked": 3, "reposted": 0, "repinned": 0}
    assert sorted(counting.turns) == sorted(g.id for g in cast.groups)  # one turn per probe, in its chat


async def test_every_message_and_pin_into_a_group_takes_a_turn_from_the_limiters(harness: Harness,
                                                                                  cast: Cast) -> None:
    """Telegram counts pins (and edits) against the limits as messages: the worker takes a turn for each."""
    from aiolimiter import AsyncLimiter

    from bot.delivery.limits import ChatLimiters

    turns: dict[int, int] = {}

    class Counted(AsyncLimiter):
        def __init__(self, chat_id: int, limiter: AsyncLimiter) -> None:
            super().__init__(limiter.max_rate, limiter.time_period)
            self.chat_id = chat_id

        async def acquire(self, amount: float = 1) -> None:
            turns[self.chat_id] = turns.get(self.chat_id, 0) + 1
            await super().acquire(amount)

    class Counting(ChatLimiters):
        def for_chat(self, chat_id: int) -> AsyncLimiter:
            if chat_id not in self._chats:
                self._chats[chat_id] = Counted(chat_id, super().for_chat(chat_id))
            return self._chats[chat_id]

    h = harness
    h.worker.limiters = h.worker.progress.limiters = Counting(h.worker.limiters.limits)
    await draft_long(h, cast, "本季度收入12万元。")  # a notice, pinned
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    counted = {"sendmessage", "pinchatmessage", "editmessagetext"}
    for group in cast.groups:
        requests = [r for r in h.world.requests if r.ok and r.method.lower() in counted
                    and int(r.params.get("chat_id", 0)) == group.id]
        assert sorted(r.method.lower() for r in requests) == ["pinchatmessage", "sendmessage"]
        assert turns[group.id] == len(requests)


async def test_a_message_sent_in_parts_is_edited_part_by_part_whatever_its_new_length(harness: Harness,
                                                                                      cast: Cast) -> None:
    """An edit row naming every part of a message (`part_ids`, as a review request's record does) rewrites
    each part; a shorter text deletes the spare parts, a longer one sends the rest below."""
    from services.outbox import queue

    h = harness
    chat = h.world.private_chat(cast.secretary)

    def context(lines: int, mark: str) -> dict[str, object]:
        text = "\n".join(f"{mark}第{n}行：村道维修支出明细，材料费人工费合计见附表。" for n in range(lines))
        return {"complaint": False, "explanation": False, "notice_title": "村道维修", "text": text, "reply": "好"}

    async def edit(ids: list[int], lines: int, mark: str) -> list[FakeMessage]:
        async with h.runtime.sessions() as session:
            queue(session, cast.secretary.id, "question_reply", {**context(lines, mark), "part_ids": ids},
                  action="edit", target_message_id=ids[-1])
            await session.commit()
        await h.flush()
        return [m for m in h.world.bot_messages(chat) if not m.deleted]

    async with h.runtime.sessions() as session:
        queue(session, cast.secretary.id, "question_reply", context(300, "旧"))
        await session.commit()
    await h.flush()
    sent = h.world.bot_messages(chat)
    assert len(sent) >= 3
    ids = [m.message_id for m in sent]
    shown = await edit(ids, 150, "新")  # about half as long: the spare parts go
    assert 2 <= len(shown) < len(ids) and all(m.message_id in ids and "新第0行" in shown[0].text for m in shown)
    assert not any("旧" in m.text for m in shown) and "新第149行" in shown[-1].text
    kept = [m.message_id for m in shown]
    shown = await edit(kept, 300, "再")  # longer again: the rest is sent below
    assert [m.message_id for m in shown][:len(kept)] == kept and len(shown) > len(kept)
    assert "再第0行" in shown[0].text and "再第299行" in shown[-1].text and not any("新" in m.text for m in shown)
