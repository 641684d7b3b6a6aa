"""The democratic finance group (民主理财小组, seed 003; issue 16 point 3) through the real Dispatcher: staff turn
its review stage on with /village; a finance notice then goes finance group → secretary → supervisor, a
non-finance notice skips the stage; separation of duties holds for it; the directory file sets it too."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.ui.keyboards.common import VillageFinance
from models import Notice, ReviewDecision, Village
from services.people import directory
from services.people.directory_io import DirectoryFileError, import_file, parse
from services.people.roles import Role
from tests.harness import Harness
from tests.notice_fixtures import DIRECTORY, seed_village
from tests.notices.test_notices_bot import draft_notice


async def _village(h: Harness) -> Village:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Village).where(Village.code == "xinglong"))).one()


async def _grant(h: Harness, user_id: int, name: str, role: Role) -> None:
    async with h.runtime.sessions() as session:
        person = await directory.get_or_create_person(session, user_id, name, None)
        await directory.grant_role(session, person.id or 0, role, village_id=(await _village(h)).id)
        await session.commit()


async def _last_notice(h: Harness) -> Notice:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Notice).order_by(col(Notice.id)))).all()[-1]


async def test_a_finance_notice_goes_to_the_finance_group_first(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    finance = h.world.new_user("孙理财")
    await h.say(finance, "/start")
    await _grant(h, finance.id, "孙理财", Role.FINANCE_GROUP)
    await h.flush()
    await h.say(cast.staff, "/village")
    assert "民主理财小组审核：未开启" in h.last(cast.staff)
    await h.tap(cast.staff, "开启民主理财小组审核")
    assert "民主理财小组审核：已开启" in h.last(cast.staff)
    assert (await _village(h)).review_chain == ["finance_group", "secretary", "supervisor"]
    # a finance notice: finance group, then the secretary, then the supervisor
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    assert "等待民主理财小组成员审核" in h.last(cast.staff)
    assert "请审核" in h.last(finance) and "第 1/3 环节" in h.last(finance)
    assert not any("请审核" in text for text in h.texts(cast.secretary))
    await h.say(finance, "/review")
    assert "2026年第一季度村级财务收支情况" in h.last(finance)
    await h.tap(finance, "同意")
    assert "请审核" in h.last(cast.secretary) and "第 2/3 环节" in h.last(cast.secretary)
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    notice = await _last_notice(h)
    assert notice.state == "published" and notice.review_chain == ["finance_group", "secretary", "supervisor"]
    async with h.runtime.sessions() as session:
        roles = [d.role for d in await session.exec(select(ReviewDecision).where(ReviewDecision.notice_id == notice.id)
                                                      .order_by(col(ReviewDecision.stage)))]
    assert roles == ["finance_group", "secretary", "supervisor"]
    # a notice of another class skips the stage
    finance_asked = len([t for t in h.texts(finance) if "请审核" in t])
    await h.say(cast.staff, "/draft")
    await h.tap(cast.staff, "事务类")
    await h.tap(cast.staff, "2. 村民委员会、村务监督委员会")  # the label is shortened
    await h.say(cast.staff, "村两委工作分工")
    await h.say(cast.staff, "主任负责全面工作。")
    await h.tap(cast.staff, "完成")
    await h.tap(cast.staff, "提交审核")
    assert "等待党组织书记审核" in h.last(cast.staff)
    assert "第 1/2 环节" in h.last(cast.secretary)
    assert len([t for t in h.texts(finance) if "请审核" in t]) == finance_asked
    assert (await _last_notice(h)).review_chain == ["secretary", "supervisor"]
    # turned off again: finance notices go straight to the secretary
    await h.say(cast.staff, "/village")
    await h.tap(cast.staff, "关闭民主理财小组审核")
    assert "民主理财小组审核：未开启" in h.last(cast.staff)
    assert (await _village(h)).review_chain == ["secretary", "supervisor"]


async def test_one_person_cannot_hold_the_finance_stage_and_the_secretarys(harness: Harness) -> None:
    """Separation of duties covers the new stage: the secretary as the only finance group member cannot
    decide both stages, so a finance notice is refused at submission; a non-finance notice is not."""
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await _grant(h, cast.secretary.id, "张书记", Role.FINANCE_GROUP)
    await h.flush()
    await h.say(cast.staff, "/village")
    assert "民主理财小组成员" not in h.last(cast.staff)  # a member exists: no warning
    await h.tap(cast.staff, "开启民主理财小组审核")
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    said = h.last(cast.staff) + h.last_alert()
    assert "无法提交" in said and ("民主理财小组成员" in said or "党组织书记" in said)
    assert (await _last_notice(h)).state == "draft"


async def test_the_stage_unstaffed_is_said_and_only_the_villages_staff_turn_it_on(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.staff, "/village")
    await h.tap(cast.staff, "开启民主理财小组审核")
    assert "本村还没有民主理财小组成员" in h.last(cast.staff)
    village = await _village(h)
    for outsider in (cast.rival, cast.resident):  # another village's staff, a resident: forged taps
        chat = h.world.private_chat(outsider)
        await h.forge_tap(outsider, chat, h.world.messages_in(chat)[-1].message_id,
                          VillageFinance(village_id=village.id or 0, on=False).pack())
        assert "村务公开人员" in h.last_alert() + h.last(outsider)
    assert (await _village(h)).review_chain == ["finance_group", "secretary", "supervisor"]


def _file(chain: str) -> str:
    users = {name: 900000 + i for i, name in enumerate(
        ("filing", "groups", "staff", "secretary", "supervisor", "supervisor2", "resident", "rival",
         "rival_secretary", "inspector"))}
    text = DIRECTORY.format(**users).replace("review_chain: [secretary, supervisor]", f"review_chain: {chain}")
    return text.replace("      resident:", "      finance_group: [900050]\n      resident:")


async def test_the_directory_file_sets_the_stage(harness: Harness) -> None:
    h = harness
    with pytest.raises(DirectoryFileError, match="reviews before the secretary"):
        parse(_file("[secretary, finance_group]"))
    async with h.runtime.sessions() as session:
        await import_file(session, parse(_file("[finance_group, secretary, supervisor]")))
        await session.commit()
    village = await _village(h)
    assert village.review_chain == ["finance_group", "secretary", "supervisor"]
    async with h.runtime.sessions() as session:
        members = await directory.people_with_role(session, village.id or 0, Role.FINANCE_GROUP)
    assert [p.tg_user_id for p in members] == [900050]
