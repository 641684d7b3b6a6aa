"""The console beyond one township (issue 15): the county's view for a county-level admin (the bot's admins,
ADMIN_IDS) ranks the townships and opens each township's ranking and its villages, to look and not to act; a
township's inspector can open neither the county's view nor another township. And what the village page
shows: periods in words, never a code like 2025Q4, and links only to public pages that exist (a links-only
board is at its key, not at the village's code)."""

from __future__ import annotations

import re

from sqlmodel import select

from models import DeskAction, Township
from services.board import visibility
from services.people import directory
from tests.conftest import ADMIN_ID
from tests.desk.test_console_http import BASE, sign_in
from tests.desk.test_desk_bot import cast  # noqa: F401  (the fixture: 兴隆村 with one obligation overdue)
from tests.harness import Harness
from tests.notice_fixtures import Cast
from tests.web.helpers import board_client, get, post

CODE = re.compile(r"\d{4}Q\d")


def shown(page: str) -> str:
    """What a reader sees of a page: its text without tags (a form's option values are not read)."""
    return re.sub(r"<[^>]*>", " ", page)


async def second_township(h: Harness) -> None:
    """东山镇 with 青山村, inspected by nobody in the cast."""
    async with h.runtime.sessions() as session:
        village = await directory.create_village(session, "dongshan", "qingshan", "青山村")
        township = await session.get(Township, village.township_id)
        assert township is not None
        township.name = "东山镇"
        session.add(township)
        await session.commit()


async def test_the_county_ranks_the_townships_and_opens_each_to_look_not_to_act(
        harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    await second_township(h)
    admin = h.world.new_user("县管理员", user_id=ADMIN_ID)
    await h.say(admin, "/start")
    async with board_client(h, public_base_url=BASE) as (client, _):
        csrf = await sign_in(h, client, admin)  # /console sends the county-level admin to the county's view
        county = await get(client, "/console")
        assert county.status == 200 and "全县各乡镇公开排名" in county.text
        towns = re.findall(r'<a href="/console/t/(\w+)">(\w+)</a>', county.text)
        assert sorted(towns) == [("dongshan", "东山镇"), ("hongqi", "红旗镇")]
        assert towns[0] == ("hongqi", "红旗镇")  # the one with a village overdue ranks first
        assert "兴隆村" in county.text  # among the county's villages most in need of action

        township = await get(client, "/console/t/hongqi")
        assert township.status == 200 and "红旗镇 · 各村公开排名" in township.text
        assert township.text.index("兴隆村") < township.text.index("东风村")
        assert 'href="/console/county"' in township.text and "/console/t/hongqi/inspections" not in township.text
        assert (await get(client, "/console/t/dongshan")).status == 200
        assert (await get(client, "/console/t/nowhere")).status == 404

        village = await get(client, "/console/v/xinglong")
        assert village.status == 200 and "逾期未公开（1 项）" in village.text
        assert 'id="urge"' not in village.text and 'id="rectify"' not in village.text  # to look, not to act
        refused = await post(client, "/console/v/xinglong/urge", data={"csrf": csrf, "note": "县里督办"})
        assert refused.status == 404
        assert (await get(client, "/console/t/hongqi/export/compliance.csv")).status == 200
    async with h.runtime.sessions() as session:
        assert not list(await session.exec(select(DeskAction)))


async def test_an_inspector_opens_neither_the_county_nor_another_township(harness: Harness,
                                                                         cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    await second_township(h)
    async with board_client(h, public_base_url=BASE) as (client, _):
        await sign_in(h, client, cast.inspector)
        county = await get(client, "/console/county")
        assert county.status == 404 and "东山镇" not in county.text and "全县" not in county.text
        other = await get(client, "/console/t/dongshan")
        assert other.status == 404 and "青山村" not in other.text
        assert (await get(client, "/console/v/qingshan")).status == 404
        assert (await get(client, "/console/t/dongshan/export/compliance.csv")).status == 404
        mine = await get(client, "/console/t/hongqi")
        assert mine.status == 200 and "兴隆村" in mine.text and "/console/county" not in mine.text
        assert "/console/t/hongqi/inspections" in mine.text
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(Township).where(Township.code == "dongshan"))).one()


async def test_the_village_page_says_periods_in_words_and_links_a_links_only_board_by_its_key(
        harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    async with h.runtime.sessions() as session:
        xinglong = await directory.village_by_code(session, "xinglong")
        assert xinglong is not None
        board = await visibility.set_visibility(session, xinglong, visibility.LINKS, h.runtime.clock.now())
        await session.commit()
    async with board_client(h, public_base_url=BASE) as (client, _):
        csrf = await sign_in(h, client, cast.inspector)
        await post(client, "/console/v/xinglong/rectify", data={"csrf": csrf, "deadline": "2026-04-20"})
        for lang, words in (("zh", "2025年第四季度"), ("en", "Q4 2025")):
            page = await get(client, f"/console/v/xinglong?lang={lang}")
            assert page.status == 200 and words in page.text, lang
            assert not CODE.search(shown(page.text)), CODE.findall(shown(page.text))
        text = (await get(client, "/console/v/xinglong")).text
        notices = re.findall(r'href="(/v/[\w-]+/n/\d+)"', text)
        assert notices and all(link.startswith(f"/v/{board.ref}/n/") for link in notices)
        assert 'href="/v/xinglong' not in text  # the code's address is not the board's: it would be 404
        for link in notices:
            assert (await get(client, link)).status == 200, link
        assert (await get(client, notices[0].replace(board.ref, "xinglong"))).status == 404
