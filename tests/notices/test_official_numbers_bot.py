"""Official numbers (issue 11, point 3) through the real Dispatcher: staff set the village's supervision
phone with /officialphone (the role re-checked on the server), the privacy screen lets it pass in another
format, and the published notice shows it at its foot; personal numbers around it are still caught."""

from __future__ import annotations

from sqlmodel import select

from models import Notice, OfficialNumber
from tests.conftest import ADMIN_ID
from tests.harness import Harness
from tests.notice_fixtures import seed_village
from tests.notices.test_notices_bot import draft_notice
from tests.web.helpers import board_client, get


async def test_the_supervision_phone_passes_unflagged_and_shows_on_the_published_notice(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.staff, "/officialphone supervision 0571-87654321")
    assert "已设置 兴隆村 的监督电话：0571-87654321" in h.last(cast.staff)
    await h.say(cast.staff, "/officialphone office 138-1234-5678")
    assert "已设置 兴隆村 的办公电话：138-1234-5678" in h.last(cast.staff)
    await h.say(cast.staff, "/officialphone")
    listing = h.last(cast.staff)
    assert "监督电话：0571-87654321" in listing and "办公电话：138-1234-5678" in listing

    body = "监督电话：(0571) 8765 4321，村委会办公电话 13812345678。"  # both written unlike their registration
    await draft_notice(h, cast, body=body)
    assert "个人信息检查" not in " ".join(h.texts(cast.staff)[-2:])
    await h.tap(cast.staff, "提交审核")
    assert "等待党组织书记审核" in h.last(cast.staff)
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    for group in cast.groups:
        posted = h.world.bot_messages(group)[-1].text
        assert body in posted  # as typed, nothing masked
        assert "监督电话：0571-87654321" in posted.split("——————————")[1]  # the footer
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert notice.state == "published" and notice.privacy_overrides == []
    async with board_client(h) as (client, _):  # the board screens again on the way out: it passes there too
        page = (await get(client, f"/v/xinglong/n/{notice.id}")).text
    assert "(0571) 8765 4321" in page and "13812345678" in page
    assert '<dt>监督电话</dt><dd><a href="tel:0571-87654321">0571-87654321</a></dd>' in page  # seam: official.py


async def test_a_personal_number_beside_the_official_one_is_still_caught(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.staff, "/officialphone supervision 0571-87654321")
    await draft_notice(h, cast, body="监督电话0571-87654321；请联系王五13912345678元旦前报名。")
    await h.tap(cast.staff, "提交审核")
    findings = h.last(cast.staff)
    assert "个人信息检查" in findings and "发现 1 处" in findings
    assert "13912345678 → 139****5678" in findings and "0571" not in findings
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(Notice))).one().state == "draft"


async def test_who_may_set_official_numbers(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.resident, "/officialphone supervision 0571-87654321")
    assert "只有村务公开人员（或管理员）可以设置" in h.last(cast.resident)
    await h.say(cast.rival, "/officialphone xinglong supervision 0571-87654321")  # staff of another village
    assert "没有" in h.last(cast.rival) and "已设置" not in h.last(cast.rival)
    await h.say(cast.staff, "/officialphone supervision 12345")
    assert "“12345”不是一个电话号码" in h.last(cast.staff)
    await h.say(cast.staff, "/officialphone fax 0571-87654321")
    assert "用法：/officialphone" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        assert list(await session.exec(select(OfficialNumber))) == []

    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    h.world.user_sends(admin, h.world.private_chat(admin), "/start")
    await h.flush()
    await h.say(admin, "/officialphone xinglong supervision +86 571 8765 4321")
    assert "已设置 兴隆村 的监督电话" in h.last(admin)
    await h.say(admin, "/officialphone supervision 0571-87654321")  # an admin's villages are all of them
    assert "村代码" in h.last(admin) and "xinglong" in h.last(admin)
    await h.say(cast.staff, "/officialphone supervision -")
    assert "已删除 兴隆村 的监督电话" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        assert list(await session.exec(select(OfficialNumber))) == []
