"""Binding groups: a group serves one village (or is one township's filing group) and is never moved
silently; staff of several villages and inspectors of several townships choose; /unbind releases."""

from __future__ import annotations

from sqlmodel import select

from fake_telegram import FakeChat, FakeUser
from models import BoundChat, Notice, Township, Village
from services.people import directory
from services.people.roles import Role
from tests.conftest import ADMIN_ID
from tests.directory.test_onboarding_bot import _invite_link
from tests.harness import Harness


async def _villages(h: Harness, *names: tuple[str, str]) -> FakeUser:
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    for code, name in names:
        await h.say(admin, f"/newvillage hongqi {code} {name}")
    return admin


async def _staff_of(h: Harness, admin: FakeUser, user: FakeUser, *villages: str) -> None:
    for name in villages:
        await h.open_link(user, await _invite_link(h, admin, name, "村务公开人员"))


def _group(h: Harness, title: str, *members: FakeUser) -> FakeChat:
    group = h.world.new_group(title, members=list(members))
    h.world.add_bot_to_group(group, admin=True, can_pin=True)
    return group


async def _binding(h: Harness, chat: FakeChat) -> tuple[str | None, str | None, bool]:
    """(village name, township code, active) of the chat's row."""
    async with h.runtime.sessions() as session:
        row = (await session.exec(select(BoundChat).where(BoundChat.chat_id == chat.id))).one()
        village = await session.get(Village, row.village_id) if row.village_id else None
        township = await session.get(Township, row.township_id) if row.township_id else None
    return (village.name if village else None, township.code if township else None, row.active)


async def _inspector(h: Harness, user: FakeUser, *township_codes: str) -> None:
    """Inspectors come from the directory file (or an invite); here straight through the services."""
    async with h.runtime.sessions() as session:
        person = await directory.get_or_create_person(session, user.id, user.full_name, None)
        for code in township_codes:
            township = (await session.exec(select(Township).where(Township.code == code))).first()
            if township is None:
                township = Township(code=code, name=f"{code}镇")
                session.add(township)
                await session.flush()
            await directory.grant_role(session, person.id or 0, Role.INSPECTOR, township_id=township.id)
        await session.commit()


async def test_staff_of_several_villages_picks_the_village(harness: Harness) -> None:
    h = harness
    admin = await _villages(h, ("xinglong", "兴隆村"), ("dongfeng", "东风村"))
    staff = h.world.new_user("王会计")
    await _staff_of(h, admin, staff, "兴隆村", "东风村")
    group = _group(h, "东风村民群", staff)
    await h.flush()
    await h.say(staff, "/bind", chat=group)
    assert "请选择本群属于哪个村" in h.last(group)
    await h.tap(staff, "东风村", chat=group)
    assert "已绑定到 东风村" in h.last(group)
    assert await _binding(h, group) == ("东风村", None, True)


async def test_staff_of_several_villages_pick_the_village_to_draft_for_and_to_register_an_event_in(
        harness: Harness) -> None:
    h = harness
    admin = await _villages(h, ("xinglong", "兴隆村"), ("dongfeng", "东风村"))
    staff = h.world.new_user("王会计")
    await _staff_of(h, admin, staff, "兴隆村", "东风村")
    await h.say(staff, "/draft")
    assert "请选择为哪个村起草" in h.last(staff)
    await h.tap(staff, "东风村")
    assert h.last(staff) == "请选择公开事项的类别："
    await h.tap(staff, "事务类")
    await h.tap(staff, "1. ")
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
        assert (await session.get(Village, notice.village_id)).name == "东风村"  # type: ignore[union-attr]
    await h.say(staff, "/event")
    assert "请选择登记哪个村的事项" in h.last(staff)
    await h.tap(staff, "兴隆村")
    assert h.last(staff) == "请选择要登记的事项："


async def test_a_group_bound_to_one_village_is_not_moved_to_another(harness: Harness) -> None:
    h = harness
    admin = await _villages(h, ("xinglong", "兴隆村"), ("dongfeng", "东风村"))
    xinglong, dongfeng = h.world.new_user("兴隆会计"), h.world.new_user("东风会计")
    await _staff_of(h, admin, xinglong, "兴隆村")
    await _staff_of(h, admin, dongfeng, "东风村")
    group = _group(h, "村民群", xinglong, dongfeng)
    await h.flush()
    await h.say(xinglong, "/bind", chat=group)
    await h.say(dongfeng, "/bind", chat=group)
    assert "已经绑定到 兴隆村" in h.last(group) and "/unbind" in h.last(group)
    assert await _binding(h, group) == ("兴隆村", None, True)
    await h.say(xinglong, "/bind", chat=group)  # the same village again: only refreshed
    assert "已绑定到 兴隆村" in h.last(group)
    await h.say(dongfeng, "/unbind", chat=group)
    assert "没有“村务公开人员”身份" in h.last(group)
    await h.say(xinglong, "/unbind", chat=group)
    assert "已与 兴隆村 解除绑定" in h.last(group)
    assert await _binding(h, group) == (None, None, False)
    await h.say(dongfeng, "/bind", chat=group)
    assert "已绑定到 东风村" in h.last(group)
    assert await _binding(h, group) == ("东风村", None, True)


async def test_unbind_where_nothing_is_bound_and_in_private(harness: Harness) -> None:
    h = harness
    admin = await _villages(h, ("xinglong", "兴隆村"))
    group = _group(h, "闲聊群", admin)
    await h.flush()
    await h.say(admin, "/unbind", chat=group)
    assert "没有绑定到任何村" in h.last(group)
    await h.say(admin, "/unbind")
    assert "需要在要解除绑定的群里发送" in h.last(admin)


async def test_filing_for_one_township_and_the_choice_between_several(harness: Harness) -> None:
    h = harness
    await _villages(h, ("xinglong", "兴隆村"))
    one, two = h.world.new_user("赵镇干部"), h.world.new_user("钱街道干部")
    await _inspector(h, one, "hongqi")
    await _inspector(h, two, "hongqi", "qingshan")
    filing = _group(h, "红旗镇备案群", one, two)
    await h.flush()
    await h.say(one, "/bind filing", chat=filing)
    assert "备案群" in h.last(filing)
    assert await _binding(h, filing) == (None, "hongqi", True)
    other = _group(h, "青山备案群", two)
    await h.flush()
    await h.say(two, "/bind filing", chat=other)
    assert "请选择本群是哪个乡镇的备案群" in h.last(other)
    await h.tap(two, "qingshan镇", chat=other)
    assert "qingshan镇" in h.last(other) and "备案群" in h.last(other)
    assert await _binding(h, other) == (None, "qingshan", True)
    await h.say(two, "/bind filing", chat=filing)  # bound to hongqi already: the same township keeps it
    assert "请选择" in h.last(filing)
    await h.tap(two, "qingshan镇", chat=filing)
    assert "已经绑定到 hongqi" in h.last_alert()
    assert await _binding(h, filing) == (None, "hongqi", True)


async def test_a_filing_group_is_not_taken_as_a_resident_group_nor_the_reverse(harness: Harness) -> None:
    h = harness
    admin = await _villages(h, ("xinglong", "兴隆村"))
    staff, inspector = h.world.new_user("王会计"), h.world.new_user("赵镇干部")
    await _staff_of(h, admin, staff, "兴隆村")
    await _inspector(h, inspector, "hongqi")
    filing, residents = _group(h, "备案群", staff, inspector), _group(h, "村民群", staff, inspector)
    await h.flush()
    await h.say(inspector, "/bind filing", chat=filing)
    await h.say(staff, "/bind", chat=filing)
    assert "已经绑定到 hongqi" in h.last(filing)
    await h.say(staff, "/bind", chat=residents)
    await h.say(inspector, "/bind filing", chat=residents)
    assert "已经绑定到 兴隆村" in h.last(residents)
    assert await _binding(h, filing) == (None, "hongqi", True)
    assert await _binding(h, residents) == ("兴隆村", None, True)


async def test_another_member_tapping_the_township_button_is_refused(harness: Harness) -> None:
    """Anyone in a group can tap its buttons: the tapping person is checked, not the one who asked."""
    h = harness
    await _villages(h, ("xinglong", "兴隆村"))
    inspector, intruder = h.world.new_user("赵镇干部"), h.world.new_user("外人")
    await _inspector(h, inspector, "hongqi", "qingshan")
    await _inspector(h, intruder, "qingshan")
    filing = _group(h, "备案群", inspector, intruder)
    await h.flush()
    await h.say(inspector, "/bind filing", chat=filing)
    await h.tap(intruder, "hongqi", chat=filing)
    assert "没有“镇（街道）检查员”身份" in h.last_alert()
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(BoundChat).where(BoundChat.chat_id == filing.id))).first() is None
    await h.tap(inspector, "hongqi", chat=filing)
    assert await _binding(h, filing) == (None, "hongqi", True)
