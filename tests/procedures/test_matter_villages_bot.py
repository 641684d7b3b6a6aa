"""/matter TITLE for a person who is staff in two villages: the bot asks which village (a button per village,
carrying its id), the matter is created where they tap, and the role is checked again on the tap: a village
where they no longer serve (or never did) is refused and nothing is created."""

from __future__ import annotations

from sqlmodel import select

from bot.ui.keyboards.matters import MatterVillage
from models import Matter, RoleGrant, Village
from services.people import directory
from services.people.roles import Role
from tests.harness import Harness
from tests.notice_fixtures import seed_village


async def test_staff_of_two_villages_choose_the_matters_village(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    async with h.runtime.sessions() as session:
        villages = {v.code: v for v in await session.exec(select(Village))}
        person = await directory.get_or_create_person(session, cast.staff.id, cast.staff.first_name, None)
        await directory.grant_role(session, person.id or 0, Role.STAFF, village_id=villages["dongfeng"].id)
        await session.commit()
    await h.say(cast.staff, "/matter 村道硬化工程")
    assert h.last(cast.staff) == "这件事项属于哪个村？请选择："
    chat = h.world.private_chat(cast.staff)
    message, _ = h.find_button(chat, "东风村")
    labels = message.buttons
    assert labels == ["兴隆村", "东风村"]
    await h.say(cast.staff, "好的")  # words instead of a tap
    assert h.last(cast.staff) == "请点上面的按钮选择村，或发送 /cancel 退出。"
    async with h.runtime.sessions() as session:
        assert not list(await session.exec(select(Matter)))
    # the role is read again on the tap: dongfeng's grant revoked meanwhile (a directory re-import)
    async with h.runtime.sessions() as session:
        grant = (await session.exec(select(RoleGrant).where(RoleGrant.person_id == person.id,
                                                            RoleGrant.village_id == villages["dongfeng"].id))).one()
        grant.status = "revoked"
        session.add(grant)
        await session.commit()
    await h.tap(cast.staff, "东风村")
    assert "村务公开人员" in h.last_alert() + h.last(cast.staff)
    async with h.runtime.sessions() as session:
        assert not list(await session.exec(select(Matter)))
    # a forged tap naming a village the person never served: refused, nothing created
    await h.forge_tap(cast.staff, chat, message.message_id, MatterVillage(village_id=villages["dongfeng"].id).pack())
    assert "村务公开人员" in h.last_alert() + h.last(cast.staff)
    await h.tap(cast.staff, "兴隆村")
    assert "已新建事项：村道硬化工程" in "\n".join(h.texts(cast.staff)[-2:])
    assert "▫️ 两委商议" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        matter = (await session.exec(select(Matter))).one()
    assert (matter.village_id, matter.title) == (villages["xinglong"].id, "村道硬化工程")
    await h.tap(cast.staff, "兴隆村")  # the same button again: the title is spent
    assert "这个按钮已失效" in h.last_alert() + h.last(cast.staff)
    async with h.runtime.sessions() as session:
        assert len(list(await session.exec(select(Matter)))) == 1


async def test_staff_of_one_village_are_not_asked(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.rival, "/matter 修缮村小学操场")
    assert "已新建事项：修缮村小学操场" in "\n".join(h.texts(cast.rival)[-2:])
    async with h.runtime.sessions() as session:
        matter = (await session.exec(select(Matter))).one()
        village = await session.get(Village, matter.village_id)
    assert village is not None and village.code == "dongfeng"
