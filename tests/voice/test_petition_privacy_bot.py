"""A petition goes to every resident group: its personal numbers are masked before it goes anywhere, one that
still has some never opens by itself, opens masked when staff confirm it, and its starter cannot confirm it.
Through the real Dispatcher on both databases (issue 11)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.base.clock import FakeClock
from bot.ui.keyboards.voice import PetitionDecide
from models import OutboxMessage, Petition
from reminders import voice
from services.people import directory
from services.people.roles import Role
from tests.harness import Harness
from tests.voice_fixtures import Cast, person, seed

ID, PHONE = "11010519491231002X", "13812345678"
ID_MASKED, PHONE_MASKED = "110105********002X", "138****5678"
REQUEST = f"请公开张三的低保审批材料，他的身份证{ID}，电话{PHONE}。"


async def _petition(h: Harness) -> Petition:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Petition))).one()


def _everything_others_see(h: Harness, cast: Cast) -> str:
    """Every message the bot sent to anybody but the petitioner, and every outbox row."""
    chats = [cast.group, *(h.world.private_chat(u) for u in (cast.staff, cast.supervisor, cast.secretary,
                                                              cast.neighbour))]
    return "\n".join(m.text for chat in chats for m in h.world.bot_messages(chat))


async def _outbox_text(h: Harness) -> str:
    async with h.runtime.sessions() as session:
        return "\n".join(str(row.context) for row in await session.exec(select(OutboxMessage)))


async def test_a_petition_with_an_id_number_and_a_phone_is_masked_with_one_tap(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, f"请公开低保名单（联系 {PHONE}）")
    await h.say(cast.resident, REQUEST)
    shown = h.last(cast.resident)
    assert "个人信息检查" in shown and ID_MASKED in shown and PHONE_MASKED in shown
    assert "请选择" not in shown  # no item choice before the numbers are masked
    assert "低保" not in _everything_others_see(h, cast)  # nothing reached anybody else yet
    await h.tap(cast.resident, "一键遮盖")
    assert PHONE_MASKED in h.last_alert()
    await h.tap(cast.resident, "跳过")
    petition = await _petition(h)
    assert ID not in petition.request and ID_MASKED in petition.request and PHONE_MASKED in petition.title
    assert ID_MASKED in h.last(cast.staff)  # staff review the masked text
    await h.tap(cast.staff, "确认受理")
    post = next(m.text for m in h.world.bot_messages(cast.group) if "联名申请公开" in m.text)
    assert ID_MASKED in post and PHONE_MASKED in post
    for text in (_everything_others_see(h, cast), await _outbox_text(h)):
        assert ID not in text and PHONE not in text


async def test_a_request_written_again_without_numbers_needs_no_masking(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开低保名单")
    await h.say(cast.resident, REQUEST)
    await h.say(cast.resident, "请公开2026年低保审批名单。")  # written again instead of masking
    assert "请选择" in h.last(cast.resident)
    await h.tap(cast.resident, "一键遮盖")  # the old mask button: the request it was for is gone
    assert "失效" in h.last_alert()
    await h.tap(cast.resident, "跳过")
    assert (await _petition(h)).request == "请公开2026年低保审批名单。"


async def _with_numbers_after_submission(h: Harness, cast: Cast) -> int:
    """A petition submitted clean, whose stored text the screen now reads personal numbers in (a petition
    from before the screen learned a form, or a row written by anything but the bot's conversation)."""
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开低保名单")
    await h.say(cast.resident, "请公开2026年低保审批名单。")
    await h.tap(cast.resident, "跳过")
    petition = await _petition(h)
    async with h.runtime.sessions() as session:
        await session.exec(update(Petition).where(col(Petition.id) == petition.id).values(request=REQUEST))
        await session.commit()
    return petition.id or 0


async def test_with_findings_it_never_opens_by_itself_and_opens_masked_when_staff_confirm(
        harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await seed(h)
    await _with_numbers_after_submission(h, cast)
    clock.advance(timedelta(days=3))
    await voice.hourly(h.runtime)
    await h.flush()
    assert (await _petition(h)).state == "pending"  # the automatic opening is for petitions without findings
    assert h.world.bot_messages(cast.group) == []
    await h.tap(cast.staff, "确认受理")
    petition = await _petition(h)
    assert petition.state == "open" and ID not in petition.request and ID_MASKED in petition.request
    post = next(m.text for m in h.world.bot_messages(cast.group) if "联名申请公开" in m.text)
    assert ID_MASKED in post and PHONE_MASKED in post and ID not in post and PHONE not in post
    assert ID not in await _outbox_text(h) and PHONE not in await _outbox_text(h)


async def test_a_clean_petition_still_opens_by_itself(harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开低保名单")
    await h.say(cast.resident, "请公开2026年低保审批名单。")
    await h.tap(cast.resident, "跳过")
    clock.advance(timedelta(days=3))
    await voice.hourly(h.runtime)
    await h.flush()
    assert (await _petition(h)).state == "open"
    assert any("联名申请公开" in m.text for m in h.world.bot_messages(cast.group))


async def test_the_starter_cannot_confirm_their_own_petition(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    async with h.runtime.sessions() as session:  # the staff member is also a resident of the village
        staff = await person(h, cast.staff)
        await directory.grant_role(session, staff.id or 0, Role.RESIDENT, village_id=cast.village_id)
        await session.commit()
    await h.say(cast.staff, "/petition")
    await h.say(cast.staff, "公开低保名单")
    await h.say(cast.staff, "请公开2026年低保审批名单。")
    await h.tap(cast.staff, "跳过")
    petition = await _petition(h)
    assert not any("确认受理" in b for m in h.world.bot_messages(h.world.private_chat(cast.staff))
                   for b in m.buttons)  # the starter is not asked
    chat = h.world.private_chat(cast.staff)
    await h.forge_tap(cast.staff, chat, h.world.messages_in(chat)[-1].message_id,
                      PetitionDecide(petition_id=petition.id or 0, approve=True).pack())
    assert "您发起的" in h.last_alert()
    assert (await _petition(h)).state == "pending" and h.world.bot_messages(cast.group) == []
    await h.tap(cast.supervisor, "确认受理")  # somebody else may
    assert (await _petition(h)).state == "open"
