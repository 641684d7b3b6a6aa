"""Questions and complaints about published notices, through the real Dispatcher: asking from the notice's
deep link, staff replying, the committee requiring explanations and closing, reminders, /questions, the
digest, attachments by link; and every bad input (retracted notice, non-residents, edited payloads, the
daily limit)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.base.clock import FakeClock
from models import Notice, OutboxMessage, Question, QuestionEntry
from reminders import voice
from services.notices import publication
from tests.harness import Harness
from tests.voice_fixtures import Cast, person, publish, seed


async def _ask(h: Harness, cast: Cast, notice_id: int, text: str, *, complaint: bool = False) -> None:
    await h.open_link(cast.resident, f"q_{notice_id}")
    await h.say(cast.resident, text)
    await h.tap(cast.resident, "作为投诉发送" if complaint else "作为提问发送")


async def _questions(h: Harness) -> list[Question]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(Question).order_by(Question.id)))  # type: ignore[arg-type]


async def test_notice_buttons_link_to_questions_and_attachments(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    post = h.world.bot_messages(cast.group)[0]
    urls = [b["url"] for row in post.data["reply_markup"]["inline_keyboard"] for b in row]
    assert urls[0].endswith(f"start=q_{notice_id}")


async def test_complaint_story(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await h.open_link(cast.resident, f"q_{notice_id}")
    assert "2026年第一季度财务收支" in h.last(cast.resident)
    await h.say(cast.resident, "村道维修为什么花了这么多钱？")
    assert "村道维修为什么" in h.last(cast.resident)
    await h.tap(cast.resident, "作为投诉发送")
    assert "投诉已发送" in h.last(cast.resident) and "2026-04-13" in h.last(cast.resident)
    # Staff see who asked; the committee sees the complaint but not the name.
    assert "李大爷" in h.last(cast.staff) and "投诉" in h.last(cast.staff)
    assert "村道维修为什么" in h.last(cast.supervisor) and "李大爷" not in h.last(cast.supervisor)
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "用于修补3公里村道，明细见附件。")
    assert "已发送给提问的村民" in h.last(cast.staff)
    assert "用于修补3公里村道" in h.last(cast.resident) and "有了答复" in h.last(cast.resident)
    assert "已答复" in h.last(cast.supervisor)
    await h.tap(cast.supervisor, "要求说明")
    assert "要求对以下投诉作出说明" in h.last(cast.staff)
    assert "此前" not in h.last(cast.staff) and "答：用于修补3公里村道" in h.last(cast.staff)
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "补充：施工合同已在村委会公示栏张贴。")
    assert "施工合同" in h.last(cast.resident) and "补充说明" in h.last(cast.resident)
    # The committee sees the whole history, in order: the answer, its own request, the explanation.
    seen = h.last(cast.supervisor)
    assert seen.index("答：用于修补3公里村道") < seen.index("要求作出说明") < seen.index("说明：补充：施工合同")
    await h.say(cast.supervisor, "/questions")
    assert "用于修补3公里村道" in h.last(cast.supervisor) and "施工合同" in h.last(cast.supervisor)
    await h.tap(cast.supervisor, "结案")
    assert "已由村务监督委员会结案" in h.last(cast.resident)
    [question] = await _questions(h)
    assert question.complaint and question.state == "closed" and question.reply and "施工合同" in question.reply
    async with h.runtime.sessions() as session:
        entries = list(await session.exec(select(QuestionEntry).order_by(QuestionEntry.id)))  # type: ignore[arg-type]
    assert [(e.kind, (e.text or "")[:4]) for e in entries] == [
        ("reply", "用于修补"), ("explain", ""), ("explanation", "补充：施")]
    # A closed question takes no more replies, even from an old button.
    await h.tap(cast.staff, "答复")
    assert "已经答复或结案" in h.last_alert()
    # The digest keeps both the first answer and the explanation.
    await h.say(cast.staff, "/digest")
    preview = "\n".join(h.texts(cast.staff)[-3:])
    assert "答：用于修补3公里村道" in preview and "说明：补充：施工合同" in preview and "李大爷" not in preview


async def test_question_with_photo_passed_to_committee(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await h.open_link(cast.resident, f"q_{notice_id}")
    h.world.user_sends_photo(cast.resident, h.world.private_chat(cast.resident), caption="这张发票对吗？")
    await h.flush()
    assert "附照片" in h.last(cast.resident)
    await h.tap(cast.resident, "作为提问发送")
    assert "问题已发送" in h.last(cast.resident)
    assert h.world.messages_in(h.world.private_chat(cast.supervisor)) == []  # a question is for the staff
    await h.tap(cast.staff, "查看照片")
    assert "photo" in h.world.last_message(h.world.private_chat(cast.staff)).data  # type: ignore[union-attr]
    await h.tap(cast.staff, "转交监委会")
    assert "转交监委会" in h.last(cast.supervisor) and "李大爷" not in h.last(cast.supervisor)
    await h.tap(cast.staff, "转交监委会")
    assert "已经处理过" in h.last_alert()
    # A resident cannot use a staff button (a forged tap with the same data).
    _, data = h.find_button(h.world.private_chat(cast.staff), "答复")
    await h.forge_tap(cast.resident, h.world.private_chat(cast.resident), 1, data)
    assert "没有“村务公开人员”身份" in h.last_alert()


async def test_question_refused_for_retracted_notice_and_non_residents(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await h.open_link(cast.stranger, f"q_{notice_id}")
    assert "已确认的村民" in h.last(cast.stranger)
    await h.open_link(cast.outsider, f"q_{notice_id}")
    assert "已确认的村民" in h.last(cast.outsider)
    # A resident with the question half-written when the notice is retracted.
    await h.open_link(cast.resident, f"q_{notice_id}")
    await h.say(cast.resident, "这个数字对吗？")
    secretary = await person(h, cast.secretary)
    async with h.runtime.sessions() as session:
        await publication.retract(session, secretary, notice_id, "数字有误", h.runtime.clock.now())
        await session.commit()
    await h.tap(cast.resident, "作为提问发送")
    assert "已撤回" in h.last_alert()
    await h.open_link(cast.resident, f"q_{notice_id}")
    assert "已撤回" in h.last(cast.resident)
    assert await _questions(h) == []


async def test_committee_acts_only_on_questions_given_to_it(harness: Harness) -> None:
    """A plain question is the staff's: the committee's buttons (forged with its id) are refused, and nothing
    changes, until the staff pass it on."""
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await h.open_link(cast.resident, f"q_{notice_id}")
    h.world.user_sends_photo(cast.resident, h.world.private_chat(cast.resident), caption="发票对吗？")
    await h.flush()
    await h.tap(cast.resident, "作为提问发送")
    [question] = await _questions(h)
    chat = h.world.private_chat(cast.supervisor)
    for n, action in enumerate(("explain", "close", "photo")):
        await h.forge_tap(cast.supervisor, chat, 30 + n, f"qa1:{question.id}:{action}")
        assert "没有转交村务监督委员会" in h.last_alert(), action
    assert h.world.messages_in(chat) == []  # no photo was sent
    [question] = await _questions(h)
    assert (question.state, question.closed_at, question.passed_to_committee) == ("open", None, False)
    async with h.runtime.sessions() as session:
        assert list(await session.exec(select(QuestionEntry))) == []
    await h.tap(cast.staff, "转交监委会")
    await h.tap(cast.supervisor, "查看照片")
    assert "photo" in h.world.last_message(chat).data  # type: ignore[union-attr]
    await h.tap(cast.supervisor, "结案")
    assert "已结案" in h.last_alert() and (await _questions(h))[0].state == "closed"


async def test_hand_edited_payloads(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await publish(h, cast)
    for payload in ("q_abc", "q_1_2", "q_-1", "q_", "a_x", "q_99999999999999", "s_-1", "s_abc"):
        await h.open_link(cast.resident, payload)
        assert "不完整或已损坏" in h.last(cast.resident), payload
    await h.open_link(cast.resident, "q_999999")
    assert "已撤回或尚未发布" in h.last(cast.resident)
    await h.open_link(cast.resident, "s_999999")
    assert "找不到这个联名申请" in h.last(cast.resident)
    await h.open_link(cast.resident, "zz_1")  # an unknown kind of link: the home screen
    assert "您好" in h.last(cast.resident)


async def test_daily_limit(harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    for n in range(5):
        await _ask(h, cast, notice_id, f"第{n + 1}个问题")
    await h.open_link(cast.resident, f"q_{notice_id}")
    assert "达到每日上限" in h.last(cast.resident)
    assert len(await _questions(h)) == 5
    clock.advance(timedelta(hours=14))  # 10:00 + 14 h: past midnight in Asia/Shanghai
    await h.open_link(cast.resident, f"q_{notice_id}")
    assert "关于《" in h.last(cast.resident)


async def test_daily_limit_is_a_setting_and_a_double_tap_cannot_pass_it(harness: Harness) -> None:
    h = harness
    h.runtime.settings.question_daily_limit = 2
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await _ask(h, cast, notice_id, "第1个问题")
    await h.open_link(cast.resident, f"q_{notice_id}")
    assert "每人每天最多提问 2 次" in h.last(cast.resident)
    await h.say(cast.resident, "第2个问题")
    # Two taps on "send" in the same instant: one question, and a clear answer to the other tap.
    chat = h.world.private_chat(cast.resident)
    message, data = h.find_button(chat, "作为提问发送")
    first, second = (h.world.user_taps(cast.resident, chat, message.message_id, data) for _ in range(2))
    await asyncio.gather(*(h.feed(raw) for raw in h.world.take_updates()))
    await h.flush()
    assert len(await _questions(h)) == 2
    answers = sorted(str(h.world.callback_answers[query].get("text") or "") for query in (first, second))
    assert answers == ["", "这个按钮已失效，请重新操作。"]  # the first sends silently, the second is told
    await h.open_link(cast.resident, f"q_{notice_id}")
    assert "您今天已经提问 2 次，达到每日上限" in h.last(cast.resident)


async def test_empty_and_long_questions(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await h.open_link(cast.resident, f"q_{notice_id}")
    await h.say(cast.resident, "问" * 2001)
    assert "内容太长" in h.last(cast.resident)
    await h.say(cast.resident, "\u200b ")
    assert "不能为空" in h.last(cast.resident)
    assert await _questions(h) == []


async def test_reminder_then_escalation_once_each(harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await _ask(h, cast, notice_id, "补贴什么时候发？")
    before_staff = len(h.texts(cast.staff))
    await voice.hourly(h.runtime)
    await h.flush()
    assert len(h.texts(cast.staff)) == before_staff  # not due tomorrow yet
    clock.advance(timedelta(days=9))  # 2026-04-12: due tomorrow
    await voice.hourly(h.runtime)
    await voice.hourly(h.runtime)
    await h.flush()
    assert len(h.texts(cast.staff)) == before_staff + 1 and "提醒" in h.last(cast.staff)
    clock.advance(timedelta(days=2))  # 2026-04-14: late
    await voice.hourly(h.runtime)
    await voice.hourly(h.runtime)
    await h.flush()
    late = [t for t in h.texts(cast.supervisor) if "逾期未答复" in t]
    assert len(late) == 1 and "李大爷" not in late[0]
    await h.tap(cast.supervisor, "要求说明")  # escalated: the question is now the committee's too
    assert "要求对以下提问作出说明" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        topics = [r.topic for r in await session.exec(select(OutboxMessage).where(
            OutboxMessage.topic != None))]  # noqa: E711
    assert topics.count("q-late:1") == 1 and topics.count("q-remind:1") == 1


async def test_questions_list_and_digest(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await _ask(h, cast, notice_id, "路灯什么时候修？")
    await _ask(h, cast, notice_id, "账目不全", complaint=True)
    await h.say(cast.staff, "/questions")
    staff_lines = h.texts(cast.staff)[-2:]
    assert all("李大爷" in line for line in staff_lines)
    await h.say(cast.supervisor, "/questions")
    assert "账目不全" in h.last(cast.supervisor) and "李大爷" not in h.last(cast.supervisor)
    assert not any("路灯" in t for t in h.texts(cast.supervisor))
    await h.say(cast.resident, "/questions")
    assert "没有“村务公开人员”身份" in h.last(cast.resident)
    await h.say(cast.staff, "/digest")
    assert "没有新的已答复提问" in h.last(cast.staff)
    await h.tap(cast.staff, "答复")  # the newest: the complaint
    await h.say(cast.staff, "账目已补充完整 <见公示栏>")
    await h.say(cast.staff, "/digest")
    preview = "\n".join(h.texts(cast.staff)[-3:])
    assert "账目不全" in preview and "账目已补充完整 &lt;见公示栏&gt;" not in preview
    assert "账目已补充完整 <见公示栏>" in preview and "李大爷" not in preview and "路灯" not in preview
    async with h.runtime.sessions() as session:
        draft = (await session.exec(select(Notice).where(Notice.state == "draft"))).one()
    assert draft.item_id == "jyv:sw.20" and "账目已补充完整" in draft.body
    await h.tap(cast.staff, "提交审核")
    assert "账目不全" in h.last(cast.secretary)


async def test_digest_where_the_catalog_has_no_replies_item(harness: Harness, clock: FakeClock) -> None:
    """A Yubei village's catalog has no "replies to villagers' questions" item: the digest is an ad hoc notice
    that says so and goes through review. The next digest holds what that one did not show: a question
    answered while it waited for review, and an explanation given after it."""
    h = harness
    cast = await seed(h, profile="yubei")
    notice_id = await publish(h, cast)
    await _ask(h, cast, notice_id, "路灯什么时候修？", complaint=True)
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "下周三前修好。")
    clock.advance(timedelta(minutes=10))
    await h.say(cast.staff, "/digest")
    preview = "\n".join(h.texts(cast.staff)[-3:])
    assert "本村的公开目录中没有“村民质询答复”事项，本汇总作为临时公开发布" in preview
    assert "问：路灯什么时候修？" in preview and "答：下周三前修好。" in preview and "李大爷" not in preview
    async with h.runtime.sessions() as session:
        draft = (await session.exec(select(Notice).where(Notice.state == "draft"))).one()
    assert draft.item_id is None
    await h.tap(cast.staff, "提交审核")
    clock.advance(timedelta(minutes=10))
    await _ask(h, cast, notice_id, "垃圾桶能多放几个吗？")  # answered while the digest waits for review
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "已增设4个。")
    clock.advance(timedelta(minutes=10))
    await h.tap(cast.secretary, "同意")
    posted = h.world.bot_messages(cast.group)[-1].text
    assert "村民质询答复情况" in posted and "临时公开" in posted and "路灯" in posted and "垃圾桶" not in posted
    clock.advance(timedelta(minutes=10))
    await h.tap(cast.supervisor, "要求说明")  # on the streetlight complaint, after its digest
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "灯具已到货，周二安装。")
    clock.advance(timedelta(minutes=10))
    await h.say(cast.staff, "/digest")
    preview = "\n".join(h.texts(cast.staff)[-3:])
    assert "垃圾桶" in preview and "说明：灯具已到货" in preview
    await h.tap(cast.staff, "提交审核")
    clock.advance(timedelta(minutes=10))
    await h.tap(cast.secretary, "同意")
    await h.say(cast.staff, "/digest")
    assert "没有新的已答复提问" in h.last(cast.staff)


async def test_digest_after_a_hand_written_one(harness: Harness, clock: FakeClock) -> None:
    """A notice of the digest item written with /draft (or by a version before digests recorded their
    questions) covers the questions answered before it was drafted."""
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    await _ask(h, cast, notice_id, "路灯什么时候修？")
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "下周三前修好。")
    clock.advance(timedelta(hours=1))
    await publish(h, cast, "第一季度村民质询答复", item_id="jyv:sw.20")
    await h.say(cast.staff, "/digest")
    assert "没有新的已答复提问" in h.last(cast.staff)
    clock.advance(timedelta(hours=1))
    await _ask(h, cast, notice_id, "垃圾桶能多放几个吗？")
    await h.tap(cast.staff, "答复")
    await h.say(cast.staff, "已增设4个。")
    await h.say(cast.staff, "/digest")
    preview = "\n".join(h.texts(cast.staff)[-3:])
    assert "垃圾桶" in preview and "路灯" not in preview


async def test_attachments_by_link(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    sent = h.world.user_sends_photo(cast.staff, h.world.private_chat(cast.staff))
    h.world.take_updates()
    file_id = sent.data["photo"][-1]["file_id"]
    with_file = await publish(h, cast, "村道维修照片", attachment=file_id)
    without = await publish(h, cast, "低保名单")
    await h.open_link(cast.stranger, f"a_{with_file}")
    assert "附件（1 个）" in "\n".join(h.texts(cast.stranger))
    assert "photo" in h.world.last_message(h.world.private_chat(cast.stranger)).data  # type: ignore[union-attr]
    await h.open_link(cast.stranger, f"a_{without}")
    assert "没有附件" in h.last(cast.stranger)
