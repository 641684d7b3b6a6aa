"""Signing in to the township console from inside Telegram (a Mini App): /console offers a web_app button
when the public address is https (only the link otherwise); init data signed with the bot's token by an
inspector opens a session like the one-time link's; a forged hash, init data older than an hour by the
process's clock, and a valid user who inspects nothing are refused, and none of them sets a cookie."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from tests.desk.test_desk_bot import cast  # noqa: F401  (the fixture: 兴隆村 with one obligation overdue)
from tests.harness import Harness
from tests.notice_fixtures import Cast
from tests.web.helpers import Answer, board_client, get, post

BASE = "https://desk.example.org"


def web_app_buttons(h: Harness, user: object) -> list[dict[str, object]]:
    message = [m for m in h.world.messages_in(h.world.private_chat(user)) if m.from_bot][-1]  # type: ignore[arg-type]
    rows = message.data.get("reply_markup", {}).get("inline_keyboard", [])
    return [button for row in rows for button in row if "web_app" in button]


async def app_sign_in(client: TestClient, init_data: str) -> Answer:
    return await post(client, "/console/app", data={"init_data": init_data}, allow_redirects=False)


async def test_the_mini_app_signs_an_inspector_in_with_verified_init_data(harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    await h.say(cast.inspector, "/console")
    buttons = web_app_buttons(h, cast.inspector)
    assert "一次性登录链接" in h.last(cast.inspector)
    assert [b["web_app"] for b in buttons] == [{"url": f"{BASE}/console/app"}]
    assert "在 Telegram 中打开工作台" in str(buttons[0]["text"])
    now = int(h.runtime.clock.now().timestamp())
    async with board_client(h, public_base_url=BASE) as (client, _):
        page = await get(client, "/console/app")
        assert page.status == 200 and 'id="tg-signin"' in page.text and "/static/console-app.js" in page.text
        assert "frame-ancestors https://web.telegram.org" in page.headers["Content-Security-Policy"]
        signed = await app_sign_in(client, h.world.web_app_init_data(cast.inspector, auth_date=now - 600))
        assert signed.status == 303 and signed.headers["Location"] == "/console"
        cookie = signed.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
        session = re.search(r"cunwu_console=([\w-]+)", cookie)
        assert session
        client.session.cookie_jar.update_cookies({"cunwu_console": session.group(1)})
        home = await get(client, "/console")
        assert home.status == 200 and "红旗镇 · 各村公开排名" in home.text and 'name="csrf"' in home.text


async def test_forged_stale_and_roleless_init_data_are_refused(harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    now = int(h.runtime.clock.now().timestamp())
    forged = h.world.web_app_init_data(cast.inspector, auth_date=now, token="1234567:another-bot-token-entirely")
    tampered = h.world.web_app_init_data(cast.staff, auth_date=now).replace(
        str(cast.staff.id), str(cast.inspector.id))  # the inspector's id under the staff's hash
    stale = h.world.web_app_init_data(cast.inspector, auth_date=now - 3601)
    roleless = h.world.web_app_init_data(cast.staff, auth_date=now)  # signed, but inspects no township
    async with board_client(h, public_base_url=BASE) as (client, _):
        answers = [await app_sign_in(client, data) for data in (forged, tampered, stale, roleless, "")]
        assert (await get(client, "/console")).status == 401
    assert [a.status for a in answers] == [403] * 5
    assert all("Set-Cookie" not in a.headers for a in answers)
    assert "签名无效" in answers[0].text and "签名无效" in answers[1].text
    assert "已过期" in answers[2].text and "不是镇（街道）检查员" in answers[3].text
    assert "没有收到 Telegram 的身份数据" in answers[4].text


async def test_without_https_the_console_reply_has_only_the_link(harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = "http://127.0.0.1:8080"
    await h.say(cast.inspector, "/console")
    assert "http://127.0.0.1:8080/console/in/" in h.last(cast.inspector)
    assert web_app_buttons(h, cast.inspector) == []
