"""Onboarding through the real Dispatcher: admin creates a village and an invite, staff opens it and binds a
group, a resident joins and is confirmed; and every bad input of the foundation issue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.base.clock import FakeClock
from fake_telegram import FakeChat, FakeUser
from models import BoundChat, Invite, RoleGrant
from tests.conftest import ADMIN_ID
from tests.harness import Harness


async def _invite_link(h: Harness, admin: FakeUser, village_label: str, role_label: str) -> str:
    await h.say(admin, "/invite")
    await h.tap(admin, village_label)
    await h.tap(admin, role_label)
    text = h.last(admin)
    return text.split("start=")[1].split()[0]


async def _onboard_staff(h: Harness) -> tuple[FakeUser, FakeUser, FakeChat]:
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    staff = h.world.new_user("王会计")
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    assert "兴隆村" in h.last(admin)
    payload = await _invite_link(h, admin, "兴隆村", "村务公开人员")
    await h.open_link(staff, payload)
    assert "村务公开人员" in h.texts(staff)[0] and "兴隆村" in h.texts(staff)[0]
    group = h.world.new_group("兴隆村村民群", members=[staff])
    h.world.add_bot_to_group(group, admin=True, can_pin=True)
    await h.flush()
    await h.say(staff, "/bind", chat=group)
    assert "已绑定到 兴隆村" in h.last(group)
    return admin, staff, group


async def test_onboarding_story(harness: Harness) -> None:
    h = harness
    _, staff, group = await _onboard_staff(h)
    resident = h.world.new_user("李大爷")
    await h.say(resident, "/join", chat=group)
    posted = h.world.last_message(group)
    assert posted is not None
    join_payload = posted.data["reply_markup"]["inline_keyboard"][0][0]["url"].split("start=")[1]
    await h.open_link(resident, join_payload)
    assert "已收到您加入" in h.last(resident)
    assert "李大爷" in h.last(staff) and "申请加入" in h.last(staff)
    await h.tap(staff, "同意")
    assert "已确认您是" in h.last(resident)
    async with h.runtime.sessions() as session:
        grants = {(g.role, g.status) for g in await session.exec(select(RoleGrant))}
        chat = (await session.exec(select(BoundChat))).one()
    assert ("resident", "active") in grants and ("staff", "active") in grants
    assert chat.chat_id == group.id and chat.can_pin and chat.purpose == "residents"
    await h.say(resident, "/start")
    assert "村民 · 兴隆村" in h.last(resident)


async def test_commands_are_registered_per_language(harness: Harness) -> None:
    from bot.ui.commands import register_commands

    await register_commands(harness.bot, harness.runtime.texts)
    keys = set(harness.world.commands)
    assert any(lang == "en" for _, lang in keys) and any(lang == "" for _, lang in keys)


async def test_help_depends_on_roles_and_lang_switches(harness: Harness) -> None:
    h = harness
    _, staff, _ = await _onboard_staff(h)
    await h.say(staff, "/help")
    assert "/pending" in h.last(staff)
    stranger = h.world.new_user("路人")
    await h.say(stranger, "/help")
    assert "/pending" not in h.last(stranger)
    await h.say(stranger, "/lang")
    await h.tap(stranger, "English")
    assert h.last(stranger) == "Switched to English."
    await h.say(stranger, "/start")
    assert "Hello" in h.last(stranger)


async def test_invite_is_single_use(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    payload = await _invite_link(h, admin, "兴隆村", "党组织书记")
    first, second = h.world.new_user("甲"), h.world.new_user("乙")
    await h.open_link(first, payload)
    await h.open_link(second, payload)
    assert "已经被使用过" in h.texts(second)[0]
    async with h.runtime.sessions() as session:
        holders = list(await session.exec(select(RoleGrant).where(RoleGrant.role == "secretary")))
    assert len(holders) == 1


async def test_expired_and_unknown_invites(harness: Harness, clock: FakeClock) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    payload = await _invite_link(h, admin, "兴隆村", "村民代表")
    clock.advance(timedelta(days=8))
    late = h.world.new_user("迟到")
    await h.open_link(late, payload)
    assert "已过期" in h.texts(late)[0]
    await h.open_link(late, "i_doesnotexist")
    assert "无效" in h.last(late)
    await h.open_link(late, "j_notanumber")
    assert "不完整" in h.last(late)
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(Invite))).one().used_by is None


async def test_bind_refused_to_non_staff_and_in_private(harness: Harness) -> None:
    h = harness
    _, staff, _ = await _onboard_staff(h)
    outsider = h.world.new_user("外人")
    other = h.world.new_group("别的群", members=[outsider])
    h.world.add_bot_to_group(other, admin=False, can_pin=False)
    await h.flush()
    await h.say(outsider, "/bind", chat=other)
    assert "没有“村务公开人员”身份" in h.last(other)
    await h.say(staff, "/bind")
    assert "不能在私聊中使用" in h.last(staff)


async def test_bind_without_pin_rights_says_so(harness: Harness) -> None:
    h = harness
    _, staff, _ = await _onboard_staff(h)
    weak = h.world.new_group("没权限的群", members=[staff])
    h.world.add_bot_to_group(weak, admin=False, can_pin=False)
    await h.flush()
    await h.say(staff, "/bind", chat=weak)
    assert "置顶" in h.last(weak)


async def test_non_admin_cannot_create_or_invite(harness: Harness) -> None:
    h = harness
    user = h.world.new_user("普通人")
    await h.say(user, "/newvillage hongqi x 某村")
    await h.say(user, "/invite")
    assert all("已创建" not in t for t in h.texts(user))
    assert "没有这个命令" in h.last(user)


async def test_unknown_command_and_text_where_button_expected(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/frobnicate")
    assert "没有这个命令" in h.last(admin)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    await h.say(admin, "/invite")
    await h.say(admin, "兴隆村")
    assert "请点击上面的按钮" in h.last(admin)
    await h.say(admin, "/cancel")
    assert "已退出" in h.last(admin)


@pytest.mark.parametrize("data", ["jd1:999:1", "jd1:abc:1", "zz9:1", "ir1:1:inspector", "x" * 64])
async def test_forged_or_stale_buttons_are_refused(harness: Harness, data: str) -> None:
    h = harness
    _, staff, _ = await _onboard_staff(h)
    await h.forge_tap(staff, h.world.private_chat(staff), 1, data)
    assert "失效" in h.last_alert()


async def test_other_villages_staff_cannot_decide_a_join(harness: Harness) -> None:
    h = harness
    admin, staff, _ = await _onboard_staff(h)
    await h.say(admin, "/newvillage hongqi dongfeng 东风村")
    payload = await _invite_link(h, admin, "东风村", "村务公开人员")
    rival = h.world.new_user("东风会计")
    await h.open_link(rival, payload)
    resident = h.world.new_user("张三")
    async with h.runtime.sessions() as session:
        xinglong = (await session.exec(select(BoundChat))).one().village_id
    await h.open_link(resident, f"j_{xinglong}")
    message, data = h.find_button(h.world.private_chat(staff), "同意")
    await h.forge_tap(rival, h.world.private_chat(rival), message.message_id, data)
    assert "没有“村务公开人员”身份" in h.last_alert()
    async with h.runtime.sessions() as session:
        pending = (await session.exec(select(RoleGrant).where(RoleGrant.role == "resident"))).one()
    assert pending.status == "pending"


async def test_handler_errors_are_logged_with_update_id_and_answered(harness: Harness,
                                                                   caplog: pytest.LogCaptureFixture,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    user = h.world.new_user("某人")

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("services.people.directory.memberships", broken)
    await h.say(user, "/start")
    assert "出了点问题" in h.last(user)
    assert any("update" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records)
    assert "Traceback" not in h.last(user)
