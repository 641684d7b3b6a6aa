"""The privacy gate on the paths where a person's text reaches another person (issue 11): question texts,
staff replies, refusal and review reasons, document names, people's names; and the gate itself
(services.outbox.queue), which refuses any outbox row carrying a personal number nobody allowed."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import Notice, OutboxMessage, Petition, Question
from services import outbox
from services.errors import DomainError
from tests.harness import Harness
from tests.notice_fixtures import seed_village
from tests.notices.test_notices_bot import draft_notice
from tests.voice_fixtures import publish, seed

PHONE, MASKED = "13812345678", "138****5678"


async def _rows(h: Harness) -> str:
    async with h.runtime.sessions() as session:
        return "\n".join(str(row.context) for row in await session.exec(select(OutboxMessage)))


def test_the_gate_refuses_a_number_nobody_allowed_and_passes_machine_fields() -> None:
    with pytest.raises(DomainError) as refused:
        outbox.check({"title": "通知", "people": [{"text": f"电话 {PHONE}"}]})
    assert refused.value.key == "privacy_gate.blocked" and refused.value.params["masked"] == MASKED
    outbox.check({"title": f"村委会电话 {PHONE}"}, allowed={PHONE})  # allowed by a supervisor
    outbox.check({"title": "通知", "delivery": {"files": [{"kind": "photo", "file_id": f"AgAC{PHONE}xyz"}]}})
    outbox.check({"title": f"已打码 {MASKED}", "amount": "收入 12,500.00 元", "at": "2026-04-01T10:00:00"})


async def test_a_question_with_a_phone_is_refused_as_it_is_written(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await h.open_link(cast.resident, f"q_{notice_id}")
    await h.say(cast.resident, f"请回电 {PHONE}，村道维修为什么花了这么多钱？")
    assert "个人信息" in h.last(cast.resident) and MASKED in h.last(cast.resident)
    await h.say(cast.resident, "村道维修为什么花了这么多钱？")  # written again: accepted
    await h.tap(cast.resident, "作为提问发送")
    assert "村道维修为什么" in h.last(cast.staff) and PHONE not in "\n".join(h.texts(cast.staff))
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, f"请打 {PHONE} 联系会计。")  # a reply reaches the resident
    assert "个人信息" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        [question] = list(await session.exec(select(Question)))
    assert question.reply is None and PHONE not in "\n".join(h.texts(cast.resident))
    assert PHONE not in await _rows(h)


async def test_a_refusal_reason_with_a_phone_does_not_reach_the_petitioner(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开低保名单")
    await h.say(cast.resident, "请公开2026年低保审批名单。")
    await h.tap(cast.resident, "跳过")
    await h.tap(cast.staff, "不予受理")
    await h.say(cast.staff, f"请先打 {PHONE} 咨询")
    assert "个人信息" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        [petition] = list(await session.exec(select(Petition)))
    assert petition.state == "pending" and PHONE not in "\n".join(h.texts(cast.resident))
    await h.say(cast.staff, "不属于公开范围")  # the conversation still waits for the reason
    assert "不属于公开范围" in h.last(cast.resident)


async def test_review_reasons_document_names_and_names_are_screened(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await draft_notice(h, cast)
    await h.tap(cast.staff, "附件")
    h.world.user_sends_document(cast.staff, h.world.private_chat(cast.staff), f"张三{PHONE}.pdf")
    await h.flush()
    assert "个人信息" in h.last(cast.staff) and MASKED in h.last(cast.staff)
    await h.tap(cast.staff, "完成")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "退回修改")
    await h.say(cast.secretary, f"请联系 {PHONE} 核对")  # the reason goes to the author
    assert "个人信息" in h.last(cast.secretary)
    async with h.runtime.sessions() as session:
        [notice] = list(await session.exec(select(Notice)))
    assert notice.state == "in_review" and PHONE not in "\n".join(h.texts(cast.staff))
    # A Telegram name is shown to other people (reviewers, staff): masked when the bot learns it.
    renamed = h.world.new_user(f"王五{PHONE}")
    await h.say(renamed, "/start")
    async with h.runtime.sessions() as session:
        from services.people.directory import person_by_tg

        found = await person_by_tg(session, renamed.id)
    assert found is not None and found.name == f"王五{MASKED}"


async def test_the_villages_official_numbers_pass_in_questions_and_petitions(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await h.say(cast.staff, "/officialphone supervision 0571-87654321")
    asked = "监督电话 (0571) 8765 4321 打不通，怎么办？"  # written unlike its registration
    await h.open_link(cast.resident, f"q_{notice_id}")
    await h.say(cast.resident, asked)
    await h.tap(cast.resident, "作为提问发送")
    assert asked in h.last(cast.staff)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开监督电话接听记录")
    await h.say(cast.resident, "请公开监督电话0571-87654321的接听记录。")
    assert "个人信息检查" not in h.last(cast.resident), h.texts(cast.resident)[-4:]
    await h.tap(cast.resident, "跳过")
    assert "已提交" in h.last(cast.resident), h.texts(cast.resident)[-4:]
    await h.tap(cast.staff, "确认受理")
    post = next(m.text for m in h.world.bot_messages(cast.group) if "联名申请公开" in m.text)
    assert "0571-87654321" in post
