"""The directory in the bot (issue 12, point 8): the admin names a new township; staff or the admin set a village's
population and representatives; while the population is unknown no petition opens, and the starter and the staff
are told why."""

from __future__ import annotations

from sqlmodel import select

from models import Township, Village
from tests.conftest import ADMIN_ID
from tests.directory.test_onboarding_bot import _invite_link
from tests.harness import Harness
from tests.voice_fixtures import seed


async def _village(h: Harness) -> Village:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Village).where(Village.code == "xinglong"))).one()


async def test_the_admin_names_a_new_township(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    assert "新乡镇 “hongqi” 的中文名称" in h.last(admin)
    await h.say(admin, "🙂")
    assert "需要包含文字" in h.last(admin)
    await h.say(admin, "红旗镇")
    assert "名称已设为：红旗镇" in h.last(admin)
    await h.say(admin, "/newvillage hongqi dongfeng 东风村")  # a known township is not asked again
    assert "中文名称" not in h.last(admin)
    await h.say(admin, "/newvillage qianjin shuguang 曙光村 前进镇")  # or named on the spot
    async with h.runtime.sessions() as session:
        names = {t.code: t.name for t in await session.exec(select(Township))}
    assert names == {"hongqi": "红旗镇", "qianjin": "前进镇"}
    await h.say(admin, "/invite")
    await h.tap(admin, "兴隆村")
    assert "镇（街道）检查员 · 红旗镇" in str(h.world.last_message(h.world.private_chat(admin)).data)  # type: ignore[union-attr]


async def test_staff_set_the_numbers_and_bad_numbers_are_refused(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村 红旗镇")
    staff = h.world.new_user("王会计")
    await h.open_link(staff, await _invite_link(h, admin, "兴隆村", "村务公开人员"))
    await h.say(staff, "王建国")
    await h.say(staff, "/village")
    assert "人口：尚未设置" in h.last(staff)
    await h.tap(staff, "设置人口")
    assert "请发送 兴隆村 的人口" in h.last(staff)
    for bad, answer in (("0", "人口必须在 1 到"), ("-5", "人口必须在 1 到"), ("一千", "不是整数"),
                        ("12abc", "不是整数")):
        await h.say(staff, bad)
        assert answer in h.last(staff), bad
    assert (await _village(h)).population == 0
    await h.say(staff, "1,200")
    assert "人口：1200 人（村民联名需要 120 人）" in h.last(staff)
    await h.tap(staff, "设置村民代表人数")
    await h.say(staff, "-1")
    assert "0 到" in h.last(staff)
    await h.say(staff, "35")
    assert "村民代表：35 人（代表联名需要 7 人）" in h.last(staff)
    village = await _village(h)
    assert (village.population, village.representatives) == (1200, 35)
    await h.say(admin, "/village")  # the admin too
    assert "兴隆村" in h.last(admin) and "1200" in h.last(admin)


async def test_another_villages_staff_cannot_set_the_numbers(harness: Harness) -> None:
    h = harness
    cast = await seed(h, population=20)
    await h.say(cast.resident, "/village")
    assert "没有“村务公开人员”身份" in h.last(cast.resident)
    async with h.runtime.sessions() as session:
        other = (await session.exec(select(Village).where(Village.code == "dongfeng"))).one()
    await h.say(cast.staff, "/village")
    message, _ = h.find_button(h.world.private_chat(cast.staff), "设置人口")
    forged = f"vn1:{other.id}:0"
    await h.forge_tap(cast.staff, h.world.private_chat(cast.staff), message.message_id, forged)
    assert "没有“村务公开人员”身份" in h.last_alert() or "没有“村务公开人员”身份" in h.last(cast.staff)


async def test_no_petition_while_the_population_is_unknown(harness: Harness) -> None:
    h = harness
    cast = await seed(h, population=0)
    await h.say(cast.resident, "/petition")
    assert "人口还没有设置，暂时不能发起联名" in h.last(cast.resident)
    assert "/village" in h.last(cast.staff) and "人口还没有设置" in h.last(cast.staff)
    await h.say(cast.staff, "/village")
    await h.tap(cast.staff, "设置人口")
    await h.say(cast.staff, "30")
    await h.say(cast.resident, "/petition")
    assert "标题" in h.last(cast.resident) or "联名" in h.last(cast.resident)
    assert "人口还没有设置" not in h.last(cast.resident)
