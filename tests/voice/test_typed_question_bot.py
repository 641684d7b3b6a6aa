"""A confirmed resident's typed text (issue 12, point 6) is offered as a question about the latest notice, never
answered with "I did not understand" alone."""

from __future__ import annotations

from sqlmodel import select

from models import Question
from tests.harness import Harness
from tests.voice_fixtures import publish, seed


async def _questions(h: Harness) -> list[Question]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(Question).order_by(Question.id)))  # type: ignore[arg-type]


async def test_a_residents_typed_text_becomes_a_question_about_the_latest_notice(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await publish(h, cast, title="2026年第一季度财务收支")
    latest = await publish(h, cast, title="低保名单公示")
    await h.say(cast.resident, "低保名单什么时候公布？")
    offer = h.last(cast.resident)
    assert "低保名单什么时候公布？" in offer and "《低保名单公示》" in offer and "没有明白" not in offer
    await h.tap(cast.resident, "关于《低保名单公示》")
    assert "请选择发送方式" in h.last(cast.resident)
    await h.tap(cast.resident, "作为提问发送")
    [question] = await _questions(h)
    assert (question.notice_id, question.text) == (latest, "低保名单什么时候公布？")
    assert "低保名单什么时候公布？" in h.last(cast.staff) and "低保名单公示" in h.last(cast.staff)


async def test_before_anything_is_published_typed_text_gets_what_a_resident_can_do(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.resident, "村里的路灯坏了找谁？")
    answer = h.last(cast.resident)
    assert "村里的路灯坏了找谁？" in answer and "/archive" in answer and "/petition" in answer
    assert "没有明白" not in answer and await _questions(h) == []


async def test_others_typing_get_the_usual_answer_and_a_stale_offer_is_refused(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await publish(h, cast, title="低保名单公示")
    await h.say(cast.stranger, "你好")
    assert "低保名单公示" not in h.last(cast.stranger) and h.last(cast.stranger)
    await h.say(cast.resident, "   ")
    assert "低保名单公示" not in h.last(cast.resident)
    await h.say(cast.resident, "你好")
    await h.say(cast.resident, "/start")  # leaves the offer
    await h.tap(cast.resident, "关于《低保名单公示》")
    assert "失效" in h.last_alert() or "失效" in h.last(cast.resident)
    assert await _questions(h) == []
