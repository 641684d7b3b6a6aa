"""A general question (issue 12, point 6): a resident's typed text may go to the village staff as a question
about no notice; the staff answer it with the usual buttons, it has the usual deadline and reminders, and the
resident gets the answer. Before anything is published the general question is the only offer."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.base.clock import FakeClock
from fake_telegram import FakeUser
from models import OutboxMessage, Question, QuestionEntry
from reminders import voice
from tests.harness import Harness
from tests.voice_fixtures import publish, seed


async def _questions(h: Harness) -> list[Question]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(Question).order_by(Question.id)))  # type: ignore[arg-type]


def _labels(h: Harness, user: FakeUser) -> list[str]:
    message = h.world.messages_in(h.world.private_chat(user))[-1]
    return [b["text"] for row in message.data.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def test_a_typed_general_question_reaches_the_staff_and_its_answer_the_resident(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await publish(h, cast, title="低保名单公示")
    await h.say(cast.resident, "村里的路灯坏了找谁修？")
    offer = h.last(cast.resident)
    assert "一般问题" in offer and "《低保名单公示》" in offer and "没有明白" not in offer
    assert len(_labels(h, cast.resident)) == 2
    await h.tap(cast.resident, "一般问题")
    assert "请选择发送方式" in h.last(cast.resident)
    await h.tap(cast.resident, "作为提问发送")
    assert "问题已发送" in h.last(cast.resident)
    [question] = await _questions(h)
    assert (question.notice_id, question.village_id, question.text, question.state) == (
        None, cast.village_id, "村里的路灯坏了找谁修？", "open")
    to_staff = h.last(cast.staff)
    assert "村里的路灯坏了找谁修？" in to_staff and "关于：村务（一般问题）\n提问人：李大爷" in to_staff
    assert "低保名单公示" not in to_staff
    await h.say(cast.staff, "/questions")
    assert "一般问题" in h.last(cast.staff) and "路灯" in h.last(cast.staff)
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "请联系村委会电工老张，明天上午去修。")
    assert "已发送给提问的村民" in h.last(cast.staff)
    answer = h.last(cast.resident)
    assert "有了答复" in answer and "老张" in answer and "一般问题" in answer
    [question] = await _questions(h)
    assert question.state == "answered" and question.reply == "请联系村委会电工老张，明天上午去修。"
    async with h.runtime.sessions() as session:
        [entry] = list(await session.exec(select(QuestionEntry)))
    assert (entry.question_id, entry.kind) == (question.id, "reply")
    # The digest of replies lists it too, as a general question.
    await h.say(cast.staff, "/digest")
    preview = "\n".join(h.texts(cast.staff)[-3:])
    assert "老张" in preview and "一般问题" in preview and "李大爷" not in preview


async def test_before_anything_is_published_the_general_question_is_the_offer(harness: Harness,
                                                                             clock: FakeClock) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.resident, "今年的低保什么时候评？")
    assert "一般问题" in h.last(cast.resident) and "没有明白" not in h.last(cast.resident)
    assert len(_labels(h, cast.resident)) == 1
    await h.tap(cast.resident, "一般问题")
    await h.say(cast.resident, "今年的低保什么时候开始评？")  # rewritten before sending
    assert "什么时候开始评" in h.last(cast.resident)
    await h.tap(cast.resident, "作为提问发送")
    [question] = await _questions(h)
    assert (question.notice_id, question.text) == (None, "今年的低保什么时候开始评？")
    # The usual deadline: the staff are reminded the day before, the committee told when it is late.
    clock.advance(timedelta(days=9))
    await voice.hourly(h.runtime)
    await h.flush()
    assert "提醒" in h.last(cast.staff) and "一般问题" in h.last(cast.staff)
    clock.advance(timedelta(days=2))
    await voice.hourly(h.runtime)
    await h.flush()
    late = [t for t in h.texts(cast.supervisor) if "逾期未答复" in t]
    assert len(late) == 1 and "一般问题" in late[0] and "李大爷" not in late[0]
    await h.tap(cast.supervisor, "结案")
    assert "已由村务监督委员会结案" in h.last(cast.resident)
    async with h.runtime.sessions() as session:
        topics = [r.topic for r in await session.exec(select(OutboxMessage).where(
            OutboxMessage.topic != None))]  # noqa: E711
    assert topics.count(f"q-late:{question.id}") == 1 and topics.count(f"q-remind:{question.id}") == 1


async def test_a_general_question_is_a_residents_alone(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.resident, "你好")
    _, data = h.find_button(h.world.private_chat(cast.resident), "一般问题")
    await h.say(cast.stranger, "你好")
    assert "一般问题" not in h.last(cast.stranger)
    await h.forge_tap(cast.stranger, h.world.private_chat(cast.stranger), 1, data)
    assert await _questions(h) == []
