"""Names and titles people type reach Telegram escaped (messages are HTML) and arrive as typed: the fake
Telegram parses each message's HTML as Telegram does and refuses a malformed one with 400."""

from __future__ import annotations

from sqlmodel import select

from models import RoleGrant
from tests.conftest import ADMIN_ID
from tests.harness import Harness
from tests.voice_fixtures import publish, seed

NAME = "A<B&C村"


async def test_a_village_named_with_markup_characters_goes_through_onboarding(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, f"/newvillage hongqi abc {NAME}")
    assert NAME in h.last(admin)
    await h.say(admin, "/invite abc")
    assert f"为 {NAME} 生成哪种身份的邀请" in h.last(admin)
    await h.tap(admin, "村务公开人员")
    link = h.last(admin)
    assert NAME in link and "start=" in link
    staff = h.world.new_user("<b>王&会计</b>")
    await h.open_link(staff, link.split("start=")[1].split()[0])
    assert f"您已成为 {NAME} 的 村务公开人员" in h.texts(staff)[0]
    assert f"村务公开人员 · {NAME}" in h.last(staff)  # the home screen after it
    group = h.world.new_group("<群>&", members=[staff])
    h.world.add_bot_to_group(group, admin=True, can_pin=True)
    await h.flush()
    await h.say(staff, "/bind", chat=group)
    assert f"已绑定到 {NAME}" in h.last(group)
    resident = h.world.new_user("<i>李&大爷")
    await h.say(resident, "/join abc")
    assert NAME in h.last(resident)
    assert "<i>李&大爷" in h.last(staff)
    await h.tap(staff, "同意")
    assert h.last_alert() == "已同意 <i>李&大爷 加入。"  # an alert is plain text: nothing escaped there
    assert "已同意 <i>李&大爷 加入。" in h.texts(staff)
    async with h.runtime.sessions() as session:
        active = list(await session.exec(select(RoleGrant).where(RoleGrant.status == "active")))
    assert len(active) == 2
    assert not any(r.status == 400 for r in h.world.requests)


async def test_a_notice_title_with_markup_characters_in_the_attachments_answer(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    title = "<b>收支</b> & 明细 <script>"
    notice_id = await publish(h, cast, title)
    await h.open_link(cast.resident, f"a_{notice_id}")
    assert h.last(cast.resident) == f"《{title}》没有附件。"
    notice_id = await publish(h, cast, title, attachment="AgACAgUAAxk000000000001")
    await h.open_link(cast.resident, f"a_{notice_id}")
    assert any(title in text for text in h.texts(cast.resident)[-3:])
    assert not any(r.status == 400 and r.method == "sendMessage" for r in h.world.requests)
