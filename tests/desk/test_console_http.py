"""The township console over HTTP (the production web application, in-process): sign-in by the bot's one-time
link (forged and reused links refused), the ranking, urging and rectification by POST with the session's CSRF
token (a past deadline refused), another township's village not found, inspections, and the exports read
back with openpyxl. The story in a real browser: tests/browser/test_console_browser.py."""

from __future__ import annotations

import csv
import io
import re

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook
from sqlmodel import select

from models import DeskAction, Inspection, Rectification
from services.people import directory
from services.people.roles import Role
from tests.desk.test_desk_bot import cast  # noqa: F401  (the fixture: 兴隆村 with one obligation overdue)
from tests.harness import Harness
from tests.notice_fixtures import Cast
from tests.web.helpers import board_client, get, post

BASE = "https://desk.example.org"


async def sign_in(h: Harness, client: TestClient, user: object) -> str:
    """/console in Telegram, then the link's page and its button, as a browser would: returns the CSRF token."""
    await h.say(user, "/console")  # type: ignore[arg-type]
    link = re.search(r"https://desk\.example\.org(/console/in/[\w-]+)", h.last(user))  # type: ignore[arg-type]
    assert link, h.last(user)  # type: ignore[arg-type]
    page = await get(client, link.group(1))
    secret = re.search(r'name="secret" value="([\w-]+)"', page.text)
    assert page.status == 200 and secret
    signed = await post(client, "/console/in", data={"secret": secret.group(1)}, allow_redirects=False)
    assert signed.status == 303 and "HttpOnly" in signed.headers["Set-Cookie"]
    assert "SameSite=Strict" in signed.headers["Set-Cookie"] and "Secure" in signed.headers["Set-Cookie"]
    # the test client speaks plain http, where a browser keeps a Secure cookie to itself: handed over here
    cookie = re.search(r"cunwu_console=([\w-]+)", signed.headers["Set-Cookie"])
    assert cookie
    client.session.cookie_jar.update_cookies({"cunwu_console": cookie.group(1)})
    again = await post(client, "/console/in", data={"secret": secret.group(1)}, allow_redirects=False)
    assert again.status == 403 and "已使用或已过期" in again.text  # single use
    home = await get(client, "/console")
    token = re.search(r'name="csrf" value="([\w-]+)"', home.text)
    assert home.status == 200 and token
    return token.group(1)


async def test_sign_in_rank_urge_rectify_and_export(harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    async with board_client(h, public_base_url=BASE) as (client, _):
        assert (await get(client, "/console")).status == 401  # nobody signed in
        forged = await post(client, "/console/in", data={"secret": "x" * 32}, allow_redirects=False)
        assert forged.status == 403
        csrf = await sign_in(h, client, cast.inspector)
        home = (await get(client, "/console")).text
        assert "红旗镇 · 各村公开排名" in home and home.index("兴隆村") < home.index("东风村")

        urge = {"note": "请本周内补齐", "key": ""}
        assert (await post(client, "/console/v/xinglong/urge", data=urge)).status == 403  # no CSRF token
        done = await post(client, "/console/v/xinglong/urge", data={**urge, "csrf": csrf})
        assert done.status == 200 and "已督办" in done.text
        await h.worker.run_until_idle()
        assert "红旗镇 督办" in h.last(cast.staff) and "请本周内补齐" in h.last(cast.secretary)

        past = await post(client, "/console/v/xinglong/rectify", data={"csrf": csrf, "deadline": "2026-04-01"})
        assert past.status == 422 and "整改期限 2026-04-01 已经过去（今天是 2026-04-03）" in past.text
        ordered = await post(client, "/console/v/xinglong/rectify",
                             data={"csrf": csrf, "deadline": "2026-04-20", "note": "补公开第四季度财务"})
        assert ordered.status == 200 and "已下达限期整改通知" in ordered.text and "整改中" in ordered.text
        await h.worker.run_until_idle()
        assert "限期整改通知" in h.last(cast.staff) and "2026-04-20" in h.last(cast.staff)

        found = await post(client, "/console/t/hongqi/inspections", data={
            "csrf": csrf, "day": "2026-04-02", "kind": "half_monthly", "v_1": "财务公开栏未更新"})
        assert found.status == 200 and "财务公开栏未更新" in found.text

        book = load_workbook(io.BytesIO((await get(client, "/console/t/hongqi/export/compliance.xlsx")).body))
        sheet = book.active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[1][:5] == ("村代码", "村名", "季度（按截止日）", "按时公开", "逾期公开")
        body, total = rows[2:-1], rows[-1]
        assert total[0] == "合计" and len(body) == 8  # two villages, four quarters each
        assert total[5] == sum(r[5] for r in body) and total[8] == 1  # one obligation overdue now
        orders = load_workbook(io.BytesIO((await get(client, "/console/t/hongqi/export/orders.xlsx")).body)).active
        assert orders is not None
        order_rows = list(orders.iter_rows(values_only=True))
        assert order_rows[2][1:5] == ("xinglong", "兴隆村", "2026-04-03", "2026-04-20")
        text = (await get(client, "/console/t/hongqi/export/inspections.csv")).body.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0][:3] == ["编号", "检查日期", "检查类型"] and lines[1][-1] == "财务公开栏未更新"

    async with h.runtime.sessions() as session:
        assert len(list(await session.exec(select(Rectification)))) == 1
        assert len(list(await session.exec(select(Inspection)))) == 1
        kinds = sorted(a.kind for a in await session.exec(select(DeskAction)))
        assert kinds == ["inspected", "rectify", "urge"]


async def test_another_townships_inspector_sees_nothing_and_an_empty_township_exports_headers(
        harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    other = h.world.new_user("东山镇干部")
    await h.say(other, "/start")
    async with h.runtime.sessions() as session:
        person = await directory.get_or_create_person(session, other.id, other.first_name, None)
        empty = await directory.create_village(session, "dongshan", "tmp", "临时村")
        await session.delete(empty)  # 东山镇 has no village at all
        await session.flush()
        await directory.grant_role(session, person.id or 0, Role.INSPECTOR, township_id=empty.township_id)
        await session.commit()
    async with board_client(h, public_base_url=BASE) as (client, _):
        csrf = await sign_in(h, client, other)
        assert "兴隆村" not in (await get(client, "/console")).text
        assert (await get(client, "/console/v/xinglong")).status == 404
        acted = await post(client, "/console/v/xinglong/urge", data={"csrf": csrf})
        assert acted.status == 404
        assert (await get(client, "/console/t/hongqi/export/compliance.xlsx")).status == 404
        sheet = load_workbook(io.BytesIO((await get(client, "/console/t/dongshan/export/compliance.xlsx")).body)).active
        assert sheet is not None and sheet.max_row == 2  # the title and the headers, no total of nothing
        assert [c.value for c in sheet[2]][:2] == ["村代码", "村名"]
        assert (await get(client, "/console/t/dongshan/export/orders.csv")).body.decode("utf-8-sig").count("\n") == 1
    await h.say(cast.staff, "/console")
    assert "镇（街道）检查员" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        assert not list(await session.exec(select(DeskAction)))
