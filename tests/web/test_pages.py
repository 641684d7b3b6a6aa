"""The public board over HTTP (the production web application, in-process), on notices published through the
bot: what a page shows and what it never shows, history, caching, rate limits, visibility, files and the
Mini App's init data. The same pages in a real browser against the real process: tests/browser."""

from __future__ import annotations

import re

import pytest
import yaml
from sqlmodel import col, select

from models import BoardSetting, Notice, Village
from services.people.directory_io import export_township, import_file, parse
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_notices_bot import draft_notice
from tests.web.helpers import board_client, get, newest, post, publish
from web.http import RateLimits

PHONE, MASKED = "13812345678", "138****5678"


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


def _telegram_ids(cast: Cast) -> list[str]:
    people = [cast.staff, cast.secretary, cast.supervisor, cast.supervisor2, cast.inspector, cast.resident]
    return [str(p.id) for p in people] + [str(c.id) for c in [*cast.groups, cast.filing]]


async def test_a_published_notice_is_on_its_board_masked_with_its_facts(harness: Harness, cast: Cast) -> None:
    h = harness
    notice = await publish(h, cast, body=f"联系人电话{PHONE}，本季度收入12万元。")
    await draft_notice(h, cast, title="还在起草的内容")  # a draft and a notice in review are nobody's business
    await publish_until_review(h, cast, "等待审核的内容")
    async with board_client(h) as (client, _):
        board = (await get(client, "/v/xinglong")).text
        page = await get(client, f"/v/xinglong/n/{notice.id}")
        text = page.text
        township, index = (await get(client, "/t/hongqi")).text, (await get(client, "/")).text
        english = (await get(client, f"/v/xinglong/n/{notice.id}?lang=en")).text
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "正在公示" in board and notice.title in board and "还在起草的内容" not in board and "等待审核" not in board
    assert MASKED in text and PHONE not in text and PHONE not in board
    facts = ("兴隆村村民委员会", "财务类 · 村级财务收支情况", "2026年第一季度", "党组织书记 张书记", "刘监委", "公示期")
    for fact in facts:
        assert fact in text, fact
    assert '<svg viewBox="0 0' in text and f"/v/xinglong/n/{notice.id}</title>" in text  # the QR code to this page
    assert "兴隆村" in township and "本季度公开 1 项" in township and "红旗镇" in index
    assert "Issued by" in english and "Party secretary" in english and "公开单位" not in english
    for secret in _telegram_ids(cast):
        assert all(secret not in shown for shown in (board, text, township, english))


async def publish_until_review(h: Harness, cast: Cast, title: str) -> None:
    await draft_notice(h, cast, title=title)
    await h.tap(cast.staff, "提交审核")


async def test_drafts_notices_in_review_and_other_villages_are_not_found(harness: Harness, cast: Cast) -> None:
    h = harness
    published = await publish(h, cast)
    await publish_until_review(h, cast, "等待审核的内容")
    in_review = await newest(h)
    async with board_client(h) as (client, _):
        answers = {path: await get(client, path) for path in (
            f"/v/xinglong/n/{in_review.id}", f"/v/xinglong/n/{in_review.id}/poster-a4",
            f"/v/dongfeng/n/{published.id}",  # a real notice, asked for under another village
            "/v/xinglong/n/99999", "/v/nowhere", "/t/nowhere", "/v/xinglong/q/2026Q9", "/v/xinglong/q/1999Q1x",
            f"/v/xinglong/n/{published.id}/poster-a5", "/v/../../etc/passwd")}
        texts = {path: answer.text for path, answer in answers.items()}
    for path, answer in answers.items():
        assert answer.status == 404, path
        assert "没有找到这个页面" in texts[path] and "Traceback" not in texts[path], path
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_correction_shows_both_versions_and_a_retraction_only_itself(harness: Harness, cast: Cast) -> None:
    h = harness
    original = await publish(h, cast, body="本季度收入12万元。")
    await h.say(cast.staff, "/archive")
    await h.tap(cast.staff, "更正")
    await h.tap(cast.staff, "改正文")
    await h.say(cast.staff, "更正：本季度收入12.5万元。")
    await h.tap(cast.staff, "完成")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    correction = await newest(h)
    async with board_client(h) as (client, _):
        old = (await get(client, f"/v/xinglong/n/{original.id}")).text
        new = (await get(client, f"/v/xinglong/n/{correction.id}")).text
        board = (await get(client, "/v/xinglong")).text
        assert (await get(client, f"/v/xinglong/n/{original.id}/poster-a4")).status == 404  # superseded
        await h.say(cast.staff, "/archive")
        await h.tap(cast.staff, "撤回")
        await h.say(cast.staff, f"数字有误，联系人{PHONE}需重新核对")
        assert "个人信息" in h.last(cast.staff)  # a reason shown to others passes the privacy gate: refused
        await h.say(cast.staff, "数字有误，需重新核对")
        await h.tap(cast.secretary, "撤回")
        after = {n: (await get(client, f"/v/xinglong/n/{n}")).text for n in (original.id, correction.id)}
        board_after = (await get(client, "/v/xinglong")).text
        poster = await get(client, f"/v/xinglong/n/{correction.id}/poster-a4.pdf")
    assert "12万元" in old and "已被更正" in old and f"/v/xinglong/n/{correction.id}" in old
    assert "12.5万元" in new and "更正记录" in new and f"/v/xinglong/n/{original.id}" in new
    assert board.count(original.title) == 2 and "已更正" in board  # listed once, in force; and in its quarter
    for shown in after.values():
        assert "本公开事项已撤回" in shown and "数字有误" in shown
        assert "12.5万元" not in shown and "12万元" not in shown and "收入" not in shown  # not the content
        assert PHONE not in shown
    assert "已撤回" in board_after and 'class="badge current"' not in board_after
    assert poster.status == 404


async def test_validators_answer_304_until_something_changes(harness: Harness, cast: Cast) -> None:
    h = harness
    notice = await publish(h, cast)
    async with board_client(h) as (client, _):
        first = await get(client, "/v/xinglong")
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        again = await get(client, "/v/xinglong", headers={"If-None-Match": etag})
        since = await get(client, "/v/xinglong", headers={"If-Modified-Since": modified})
        notice_page = await get(client, f"/v/xinglong/n/{notice.id}")
        same_notice = await get(client, f"/v/xinglong/n/{notice.id}",
                                headers={"If-None-Match": notice_page.headers["ETag"]})
        english = await get(client, "/v/xinglong?lang=en", headers={"If-None-Match": etag})
        await post_proof(h, cast, notice)
        changed = await get(client, "/v/xinglong", headers={"If-None-Match": etag})
        text = changed.text
    assert first.status == 200 and "max-age" in first.headers["Cache-Control"]
    assert again.status == 304 and since.status == 304 and same_notice.status == 304
    assert english.status == 200  # another language is another page
    assert changed.status == 200 and changed.headers["ETag"] != etag and "已张贴" in text


async def post_proof(h: Harness, cast: Cast, notice: Notice) -> None:
    chat = h.world.private_chat(cast.staff)
    published = next(m for m in reversed(h.world.bot_messages(chat)) if "审核通过并发布" in m.text
                     and notice.title in m.text)
    h.world.user_sends_photo(cast.staff, chat, reply_to=published.message_id)
    await h.flush()


async def test_too_many_requests_from_one_address_get_429_in_their_language(harness: Harness, cast: Cast) -> None:
    h = harness
    async with board_client(h, rate_limits=RateLimits(per_minute=10), trusted_proxies=frozenset()) as (client, _):
        statuses = [(await get(client, "/")).status for _ in range(12)]
        refused = await get(client, "/?lang=en")
        spoofed = await get(client, "/", headers={"X-Forwarded-For": "203.0.113.9"})  # not from a trusted proxy
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many requests" in refused.text
    assert spoofed.status == 429
    async with board_client(h, rate_limits=RateLimits(per_minute=10)) as (client, _):  # 127.0.0.1: a trusted proxy
        behind = [(await get(client, "/", headers={"X-Forwarded-For": f"198.51.100.{n % 2}"})).status
                  for n in range(20)]
    assert behind.count(200) == 20  # two clients behind the proxy, ten requests each: within each one's limit


async def test_a_village_keeps_its_board_out_of_search_engines_or_reachable_only_by_its_links(
        harness: Harness, cast: Cast) -> None:
    h = harness
    h.runtime.settings.public_base_url = "https://board.example.org"
    notice = await publish(h, cast)
    await _set_board(h, "noindex")
    async with board_client(h) as (client, _):
        hidden = await get(client, "/v/xinglong")
        noindex_text = hidden.text
        listed = (await get(client, "/t/hongqi")).text
    assert hidden.headers["X-Robots-Tag"] == "noindex, nofollow" and 'content="noindex, nofollow"' in noindex_text
    assert 'href="/v/xinglong" rel="nofollow"' in listed
    await _set_board(h, "links")
    key = await _board_key(h)
    async with board_client(h) as (client, _):
        by_code = await get(client, f"/v/xinglong/n/{notice.id}")
        by_key = await get(client, f"/v/{key}/n/{notice.id}")
        township = (await get(client, "/t/hongqi")).text
        robots = (await get(client, "/robots.txt")).text
    assert by_code.status == 404 and by_key.status == 200 and by_key.headers["X-Robots-Tag"].startswith("noindex")
    assert "兴隆村" not in township and key not in robots and key not in township
    assert by_key.headers["Referrer-Policy"] == "no-referrer"  # the key does not leak to linked sites
    await draft_notice(h, cast, title="第二份")  # a new post's button carries the key, not the code
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    post = h.world.bot_messages(cast.groups[0])[-1]
    urls = [b.get("url", "") for row in post.data["reply_markup"]["inline_keyboard"] for b in row]
    assert f"https://board.example.org/v/{key}/n/{(await newest(h)).id}" in urls
    await _set_board(h, "links")  # the same key when the file is imported again: links handed out keep working
    assert await _board_key(h) == key


async def _set_board(h: Harness, visibility: str) -> None:
    """What a township office does: export its directory file, change xinglong's `board`, import it."""
    async with h.runtime.sessions() as session:
        data = yaml.safe_load(await export_township(session, "hongqi"))
        next(v for v in data["villages"] if v["code"] == "xinglong")["board"] = visibility
        await import_file(session, parse(yaml.safe_dump(data, allow_unicode=True)))
        await session.commit()


async def _board_key(h: Harness) -> str:
    async with h.runtime.sessions() as session:
        setting = (await session.exec(select(BoardSetting).join(Village, col(Village.id) == BoardSetting.village_id)
                                      .where(Village.code == "xinglong"))).one()
        return setting.link_key or ""


async def test_attachments_are_served_safely(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast, title="村道维修照片与名单")
    await h.tap(cast.staff, "附件")
    chat = h.world.private_chat(cast.staff)
    h.world.user_sends_photo(cast.staff, chat)
    h.world.user_sends_document(cast.staff, chat, "名单.html", content=b"<script>alert(1)</script>")
    await h.flush()
    await h.tap(cast.staff, "完成")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    notice = await newest(h)
    async with board_client(h) as (client, _):
        page = (await get(client, f"/v/xinglong/n/{notice.id}")).text
        paths = re.findall(rf'href="(/v/xinglong/n/{notice.id}/f/\d+)"', page)
        photo, document = [await get(client, path) for path in dict.fromkeys(paths)]
        body = document.body
    assert photo.status == 200 and photo.headers["Content-Type"] == "image/jpeg"
    assert document.headers["Content-Type"] == "application/octet-stream"
    assert document.headers["Content-Disposition"].startswith("attachment;") and body.startswith(b"<script>")
    assert "名单.html" in page and "AgACAgUAAxk" not in page  # our ids in addresses, never Telegram's file ids


async def test_mini_app_lists_need_init_data_signed_with_the_bot_token(harness: Harness, cast: Cast) -> None:
    h = harness
    await publish_until_review(h, cast, "等待书记审核的内容")
    await draft_notice(h, cast, title="王会计的草稿")
    now = int(h.runtime.clock.now().timestamp())  # the fake clock the process checks auth_date against
    signed = h.world.web_app_init_data(cast.secretary, auth_date=now - 60)
    forged = h.world.web_app_init_data(cast.secretary, auth_date=now, token="1234567:another-bot-token-entirely")
    tampered = signed.replace(str(cast.secretary.id), str(cast.staff.id))  # someone else's id, the old hash
    stale = h.world.web_app_init_data(cast.secretary, auth_date=now - 3 * 86_400)
    async with board_client(h) as (client, _):
        page = (await get(client, "/app?v=xinglong")).text
        mine = await post(client, "/app/me", data={"init_data": signed})
        staff = await post(client, "/app/me", data={"init_data": h.world.web_app_init_data(cast.staff, auth_date=now)})
        resident = await post(client, "/app/me", data={"init_data": h.world.web_app_init_data(cast.resident,
                                                                                               auth_date=now)})
        refusals = [await post(client, "/app/me", data={"init_data": data}) for data in (forged, tampered, stale, "")]
        refused_texts = [answer.text for answer in refusals]
        mine_text, staff_text = mine.text, staff.text
    assert 'id="mine"' in page and "/static/app.js" in page and "frame-ancestors https://web.telegram.org" in (
        refusals[0].headers["Content-Security-Policy"])
    assert mine.status == 200 and mine.headers["Cache-Control"] == "no-store"
    assert "张书记 的待办" in mine_text and "等待书记审核的内容" in mine_text and "王会计的草稿" not in mine_text
    assert "王会计的草稿" in staff_text and "应公开事项" in staff_text
    assert "待办" not in resident.text and "我的村" in resident.text  # a resident: their village, no lists
    assert [answer.status for answer in refusals] == [403, 403, 403, 403]
    assert "签名无效" in refused_texts[0] and "签名无效" in refused_texts[1] and "已过期" in refused_texts[2]
    assert all("等待书记审核的内容" not in text for text in refused_texts)


async def test_a_person_who_lost_the_role_sees_no_lists(harness: Harness, cast: Cast) -> None:
    """Roles are read on every request: a secretary removed from the directory file sees nothing waiting."""
    h = harness
    await publish_until_review(h, cast, "等待书记审核的内容")
    async with h.runtime.sessions() as session:
        data = yaml.safe_load(await export_township(session, "hongqi"))
        data["villages"][0]["roles"].pop("secretary")
        await import_file(session, parse(yaml.safe_dump(data, allow_unicode=True)))
        await session.commit()
    signed = h.world.web_app_init_data(cast.secretary, auth_date=int(h.runtime.clock.now().timestamp()))
    async with board_client(h) as (client, _):
        answer = await post(client, "/app/me", data={"init_data": signed})
        text = answer.text
    assert answer.status == 200 and "等待书记审核的内容" not in text and "待办" not in text


async def test_a_finance_statement_is_a_real_table(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast, title="村级财务收支明细")
    await h.tap(cast.staff, "财务明细")
    await h.say(cast.staff, "村道维修 12500.00\n办公经费 1,200")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    notice = await newest(h)
    async with board_client(h) as (client, _):
        page = (await get(client, f"/v/xinglong/n/{notice.id}")).text
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"amount\">(.*?)</td></tr>", page)
    assert rows == [("村道维修", "12,500.00"), ("办公经费", "1,200.00"), ("合计", "13,700.00")]
    assert '<table class="finance">' in page and "<th>项目</th>" in page
