"""Consultation (协商, seed 001; issue 16 point 2) through the real Dispatcher: a resident proposes a topic, the
staff schedule and record the consultation, its outcome is owed as a disclosure within the ad hoc period, and
the adoption (or not) is fed back to the proposer and posted in the resident groups."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from bot.ui.keyboards.matters import ConsultFeedback, ConsultRecord
from models import Consultation, Obligation
from tests.harness import Harness
from tests.notice_fixtures import seed_village

RECORD = ("日期：2026-04-02\n参加：村“两委”代表、监委会代表、车主代表 12 人\n意见：多数赞成划线收费，两户反对\n"
          "结果：划定 40 个车位，按月收费")


async def test_a_topic_proposed_recorded_owed_and_fed_back(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    resident, staff = cast.resident, cast.staff
    # an outcome needs a topic: a proposal without one is refused, so is a personal number in it
    await h.say(resident, "/consult")
    assert h.last(resident) == "请写上协商议题，例如：/consult 小区停车位划分"
    await h.say(resident, "/consult 请打我电话 13812345678")
    assert h.last(resident) == "内容中含有个人信息：138****5678。请不写这些号码后重新发送。"
    assert not any("新的协商议题" in text for text in h.texts(staff))
    await h.say(resident, "/consult 村委会门前停车位划分")
    assert "已提出协商议题：村委会门前停车位划分" in h.last(resident)
    assert "新的协商议题：村委会门前停车位划分" in h.last(staff) and "李大爷" in h.last(staff)
    async with h.runtime.sessions() as session:
        assert len(list(await session.exec(select(Consultation)))) == 1
    # staff schedule it (a date to come), then record it once held
    await h.say(staff, "/consult")
    assert "协商：村委会门前停车位划分" in h.last(staff) and "待安排" in h.last(staff)
    await h.tap(staff, "📝 安排或记录协商")
    assert "请复制下面的格式" in h.last(staff)
    await h.say(staff, "日期：2026-04-10")
    assert "已安排协商：村委会门前停车位划分，2026-04-10" in "\n".join(h.texts(staff)[-2:])
    assert "已安排：2026-04-10" in h.last(staff)
    await h.tap(staff, "📝 安排或记录协商")
    await h.say(staff, RECORD.replace("\n结果：划定 40 个车位，按月收费", ""))
    assert h.last(staff) == "缺少“结果：”一行（协商结果）。"
    await h.say(staff, RECORD)
    assert "已记录协商：村委会门前停车位划分。协商成果须在 2026-04-12 前公开。" in "\n".join(h.texts(staff)[-2:])
    assert "结果：划定 40 个车位，按月收费" in h.last(staff) and "⏳ 协商成果：2026-04-12 前公开" in h.last(staff)
    async with h.runtime.sessions() as session:
        row = (await session.exec(select(Consultation))).one()
        owed = (await session.exec(select(Obligation).where(Obligation.source == "consultation"))).one()
    assert (row.held_on, row.scheduled_on) == (date(2026, 4, 2), date(2026, 4, 10))
    assert (owed.source_id, owed.rule, owed.event_date, owed.due) == (row.id, "adhoc", date(2026, 4, 2),
                                                                       date(2026, 4, 12))
    assert owed.title == "村委会门前停车位划分" and owed.met_notice_id is None
    await h.say(staff, "/due")
    assert "协商成果：村委会门前停车位划分" in h.last(staff)
    # not adopted: explained to the proposer and posted in the resident groups
    await h.tap(staff, "❌ 未采纳")
    assert "为什么不采纳" in h.last(staff)
    await h.say(staff, "收费须经村民代表会议决定，已提交下次会议")
    assert "已反馈并在村民群公开：村委会门前停车位划分" in h.last(staff)
    await h.flush()
    told = h.last(resident)
    assert "您提出的协商议题有了结果" in told and "❌ 未采纳：收费须经村民代表会议决定" in told
    for group in cast.groups:
        posted = h.world.bot_messages(group)[-1].text
        assert "兴隆村协商成果反馈" in posted and "划定 40 个车位" in posted
    async with h.runtime.sessions() as session:
        row = (await session.exec(select(Consultation))).one()
    assert row.adopted is False and row.feedback.startswith("收费须经")
    await h.say(staff, "/consult")  # fed back: no longer waiting
    assert "目前没有待办的协商议题" in h.last(staff)


async def test_only_the_villages_staff_record_and_feed_back(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.resident, "/consult 修路")
    async with h.runtime.sessions() as session:
        row = (await session.exec(select(Consultation))).one()
    for outsider in (cast.resident, cast.rival):
        chat = h.world.private_chat(outsider)
        for data in (ConsultRecord(consultation_id=row.id or 0), ConsultFeedback(consultation_id=row.id or 0,
                                                                                 adopted=True)):
            await h.forge_tap(outsider, chat, h.world.messages_in(chat)[-1].message_id, data.pack())
            assert "村务公开人员" in h.last_alert() + h.last(outsider)
    await h.say(cast.staff, "/consult")
    chat = h.world.private_chat(cast.staff)  # feedback before the consultation is recorded: refused
    await h.forge_tap(cast.staff, chat, h.world.messages_in(chat)[-1].message_id,
                      ConsultFeedback(consultation_id=row.id or 0, adopted=True).pack())
    assert "协商还没有记录" in h.last_alert() + h.last(cast.staff)
    await h.tap(cast.staff, "📝 安排或记录协商")
    await h.say(cast.staff, RECORD.replace("划定 40 个车位", "联系人 13912345678"))
    assert h.last(cast.staff) == "内容中含有个人信息：139****5678。请不写这些号码后重新发送。"
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(Consultation))).one().held_on is None
        assert not list(await session.exec(select(Obligation)))
