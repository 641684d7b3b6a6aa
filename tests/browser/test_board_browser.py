"""The public board in headless Chromium against the real `cunwu run` (tests/browser/conftest.py): what a
resident's phone shows, what the printed poster carries, and the Mini App's check of Telegram's signature."""

from __future__ import annotations

import asyncio
import ctypes
import io
import sys
from typing import Any
from urllib.parse import quote

import aiohttp
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from PIL import Image, ImageChops

from tests.browser.conftest import MASKED, PHONE, Served

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("browser")]
PHONE_WIDTH = {"width": 360, "height": 740}


async def _page(browser: Any, **options: Any) -> Any:
    context = await browser.new_context(viewport=options.pop("viewport", PHONE_WIDTH), **options)
    return await context.new_page()


async def _fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as client, client.get(url) as answer:
        assert answer.status == 200, (url, answer.status)
        return await answer.read()


async def test_a_published_notice_is_on_its_board_with_masked_numbers(served: Served, browser: Any) -> None:
    page = await _page(browser)
    await page.goto(f"{served.base}/v/xinglong")
    title = "村道维修工程联系人"
    current = page.locator("h2", has_text="正在公示").locator("xpath=following-sibling::ul[1]")
    assert title in await current.inner_text()
    await page.get_by_role("link", name=title).first.click()
    await page.wait_for_url(f"**/v/xinglong/n/{served.notices['phone']}")
    shown = await page.locator("main").inner_text()
    assert MASKED in shown and PHONE not in await page.content()
    assert "党组织书记 张书记" in shown and "兴隆村村民委员会" in shown and "正在公示" in shown
    await page.context.close()


async def test_the_board_reads_without_javascript(served: Served, browser: Any) -> None:
    page = await _page(browser, java_script_enabled=False)
    await page.goto(f"{served.base}/v/xinglong/n/{served.notices['finance']}")
    assert served.stage.facts["title"] in await page.locator("h1").inner_text()
    assert "本季度收入12.5万元" in await page.locator("main").inner_text()
    await page.context.close()


async def test_a_retracted_notice_shows_only_its_retraction(served: Served, browser: Any) -> None:
    page = await _page(browser)
    await page.goto(f"{served.base}/v/xinglong/n/{served.notices['retracted']}")
    shown = await page.locator("main").inner_text()
    assert "本公开事项已撤回" in shown and "名单有误，撤回重新核对" in shown
    assert "这份名单发错了" not in await page.content()
    poster = await page.goto(f"{served.base}/v/xinglong/n/{served.notices['retracted']}/poster-a4")
    assert poster is not None and poster.status == 404
    await page.context.close()


async def test_phone_width_pages_have_no_horizontal_scroll(served: Served, browser: Any, tmp_path: Any) -> None:
    page = await _page(browser)
    paths = ["/", "/t/hongqi", "/v/xinglong", f"/v/xinglong/n/{served.notices['phone']}",
             f"/v/xinglong/n/{served.notices['retracted']}", f"/v/xinglong/n/{served.notices['finance']}?lang=en",
             f"/v/xinglong/n/{served.notices['finance']}/poster-a4", "/v/nowhere"]
    wide: dict[str, int] = {}
    for path in paths:
        await page.goto(served.base + path)
        await page.screenshot(path=str(tmp_path / f"{len(wide)}.png"), full_page=True)
        scroll, client = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > client:
            wide[path] = scroll
    assert wide == {}, f"wider than 360 px: {wide}"
    await page.context.close()


def _qr_texts(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


async def test_the_posters_qr_code_decodes_to_the_notices_address(served: Served, browser: Any) -> None:
    notice = served.notices["finance"]
    address = f"{served.base}/v/xinglong/n/{notice}"
    page = await _page(browser, viewport={"width": 900, "height": 1300})
    await page.goto(f"{served.base}/v/xinglong/n/{notice}/poster-a4")
    printed = Image.open(io.BytesIO(await page.screenshot(full_page=True)))
    assert _qr_texts(printed) == [address]
    await page.context.close()
    pdf = pdfium.PdfDocument(await _fetch(f"{served.base}/v/xinglong/n/{notice}/poster-a4.pdf"))
    assert _qr_texts(pdf[0].render(scale=3).to_pil()) == [address]


def _chars(page: Any) -> list[tuple[str, str, tuple[float, float, float, float]]]:
    """(character, font name, box) of every character pdfium reads on the page."""
    text = page.get_textpage()
    found = []
    for index in range(text.count_chars()):
        name = ctypes.create_string_buffer(256)
        pdfium_c.FPDFText_GetFontInfo(text.raw, index, name, 256, None)
        found.append((chr(pdfium_c.FPDFText_GetUnicode(text.raw, index)), name.value.decode(),
                      text.get_charbox(index)))
    return found


async def test_the_pdf_poster_renders_chinese_text(served: Served) -> None:
    """Every Chinese character is set in a CJK font (Noto CJK, from fonts-noto-cjk); and rasterised, distinct
    characters look distinct: a missing glyph is the same empty box whatever the character."""
    title = served.stage.facts["title"]
    pdf = pdfium.PdfDocument(await _fetch(f"{served.base}/v/xinglong/n/{served.notices['finance']}/poster-a4.pdf"))
    page = pdf[0]
    chars = _chars(page)
    text = "".join(char for char, _, _ in chars)
    assert title in text and "兴隆村村民委员会" in text and "经办人" in text and "监督电话" in text
    chinese = [(char, font, box) for char, font, box in chars if "\u4e00" <= char <= "\u9fff"]
    assert len(chinese) > 50 and all("CJK" in font for _, font, _ in chinese), {font for _, font, _ in chinese}
    scale = 4
    bitmap = page.render(scale=scale).to_pil().convert("L")
    height = page.get_height()
    glyphs: dict[str, bytes] = {}
    for char, _, (left, bottom, right, top) in chinese:
        crop = bitmap.crop((int(left * scale), int((height - top) * scale), int(right * scale) + 1,
                            int((height - bottom) * scale) + 1)).resize((24, 24))
        assert ImageChops.invert(crop).getbbox() is not None, f"{char} drew nothing"
        glyphs.setdefault(char, crop.tobytes())
    assert len(set(glyphs.values())) == len(glyphs) > 20  # as many shapes as characters: no tofu


async def test_the_mini_app_refuses_forged_init_data_and_accepts_signed(served: Served, browser: Any) -> None:
    world, staff = served.stage.world, served.stage.people["staff"]
    signed = world.web_app_init_data(staff)
    forged = world.web_app_init_data(staff, token="1111111111:a-token-that-is-not-this-bots-own")
    for data, state in ((forged, "refused"), (signed, "verified")):
        page = await _page(browser)
        await page.goto(f"{served.base}/app?v=xinglong#tgWebAppData={quote(data)}&tgWebAppVersion=8.0")
        mine = page.locator("#mine")
        await page.wait_for_selector(f"#mine[data-state={state}]", timeout=10_000)
        shown = await mine.inner_text()
        if state == "refused":
            assert "未能确认您的 Telegram 身份" in shown and "待办" not in shown
        else:
            assert f"{staff.first_name} 的待办" in shown and "我的草稿" in shown and "应公开事项" in shown
        assert served.stage.facts["title"] in await page.locator("main").inner_text()  # the public board beneath
        await page.context.close()


async def test_cunwu_admin_poster_prints_a_notice(served: Served, tmp_path: Any) -> None:
    from tests.e2e.test_real_process import _env

    output = tmp_path / "poster.pdf"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli.main", "admin", "poster", "--notice", str(served.notices["phone"]),
        "--size", "a3", "-o", str(output), cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=_env(DATABASE_URL=served.database_url, PUBLIC_BASE_URL=served.base))
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    pdf = pdfium.PdfDocument(output.read_bytes())
    width, height = pdf[0].get_size()
    assert round(width / 72 * 25.4) == 297 and round(height / 72 * 25.4) == 420  # A3, in millimetres
    text = pdf[0].get_textpage().get_text_range()
    assert "村道维修工程联系人" in text and MASKED in text and PHONE not in text
    assert str(output) in out.decode()


# --- the township console (issue 15): one story, last in the module (it moves the village's joining day back) ---

async def test_the_township_console_story(served: Served, browser: Any) -> None:
    """The inspector signs in through the bot's one-time link, sees the ranking, urges 兴隆村 and orders it to
    rectify one overdue disclosure; the staff receive both in Telegram, publish it from the order's button, and
    the order closes; the Excel export carries the ranking's numbers."""
    from datetime import timedelta

    from openpyxl import load_workbook
    from sqlmodel import select

    from models import Rectification, Village

    stage = served.stage
    inspector, staff = stage.people["inspector"], stage.people["staff"]
    async with stage.sessions() as session:  # 兴隆村 joined five months ago: a quarter's disclosures are overdue
        village = (await session.exec(select(Village).where(Village.code == "xinglong"))).one()
        village.created_at = village.created_at - timedelta(days=150)
        session.add(village)
        await session.commit()
    await stage.send(inspector, "/start")
    await stage.send(inspector, "/console")
    link = stage.last(inspector).split("\n")[-1]
    assert link.startswith(f"{served.base}/console/in/"), stage.last(inspector)

    page = await _page(browser)
    await page.goto(link)
    await page.get_by_role("button", name="登录乡镇工作台").click()
    await page.wait_for_url(f"{served.base}/console")
    first = page.locator("#ranking tbody tr").first
    assert "兴隆村" in await first.inner_text()  # worst first: the only village with anything overdue
    assert int(await first.locator("td").nth(2).inner_text()) > 0
    reused = await page.context.new_page()
    assert (await reused.goto(link)) is not None
    await reused.get_by_role("button", name="登录乡镇工作台").click()
    assert "已使用或已过期" in await reused.locator("main").inner_text()  # the link works once
    await reused.close()

    await page.get_by_role("link", name="兴隆村").click()
    await page.wait_for_url("**/console/v/xinglong")
    chosen = await page.locator("#urge select[name=key] option").nth(1).get_attribute("value")
    await page.locator("#urge select[name=key]").select_option(chosen)
    await page.locator("#urge textarea[name=note]").fill("请三日内补齐公开")
    await page.locator("#urge button").click()
    assert "已督办" in await page.locator("main").inner_text()
    await stage.quiet()
    assert "督办" in stage.last(staff) and "请三日内补齐公开" in stage.last(staff)

    today = await page.locator("#rectify input[name=deadline]").get_attribute("min")
    await page.locator("#rectify select[name=key]").select_option(chosen)
    await page.locator("#rectify input[name=deadline]").fill(today or "")
    await page.locator("#rectify button").click()
    assert "已下达限期整改通知" in await page.locator("main").inner_text()
    assert "整改中" in await page.locator("#orders").inner_text()
    await stage.quiet()
    assert "限期整改通知" in stage.last(staff) and today in stage.last(staff)

    await stage.tap(staff, data="nd1|*")  # "draft it now" on the order
    await stage.send(staff, "补公开：限期整改事项")
    await stage.send(staff, "按乡镇限期整改通知补充公开。")
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(stage.people["secretary"], stage.ui("btn.approve"))
    await stage.tap(stage.people["supervisor"], stage.ui("btn.approve"))
    await stage.quiet()
    await page.reload()
    assert "已办结" in await page.locator("#orders").inner_text()
    async with stage.sessions() as session:
        assert (await session.exec(select(Rectification))).one().state == "closed"
    assert any("限期整改已办结" in text for text in stage.texts_in(inspector))

    answer = await page.request.get(f"{served.base}/console/t/hongqi/export/compliance.xlsx")
    sheet = load_workbook(io.BytesIO(await answer.body())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    body, total = rows[2:-1], rows[-1]
    assert rows[1][0] == "村代码" and total[0] == "合计"
    assert total[3:7] == tuple(sum(r[c] for r in body) for c in range(3, 7))
    await page.goto(f"{served.base}/console")
    shown = await page.locator("#ranking tbody td:nth-child(3)").all_inner_texts()  # each village's overdue
    assert total[8] == sum(int(value) for value in shown)
    await page.context.close()


async def test_the_console_opens_inside_telegram_for_an_inspector_only(served: Served, browser: Any) -> None:
    """The Mini App page's script posts Telegram's init data: an inspector's lands on the ranking (signed in by
    the session cookie); a member of staff's is refused; outside Telegram the page says how to sign in."""
    world, people = served.stage.world, served.stage.people
    await served.stage.send(people["inspector"], "/start")
    page = await _page(browser)
    await page.goto(f"{served.base}/console/app")
    await page.wait_for_selector("#tg-outside:not([hidden])", timeout=10_000)
    assert "/console" in await page.locator("#tg-outside").inner_text()
    await page.context.close()
    page = await _page(browser)
    staff = world.web_app_init_data(people["staff"])
    await page.goto(f"{served.base}/console/app#tgWebAppData={quote(staff)}&tgWebAppVersion=8.0")
    await page.wait_for_selector("#tg-refused", timeout=10_000)
    assert "您不是镇（街道）检查员" in await page.locator("#tg-refused").inner_text()
    await page.context.close()
    page = await _page(browser)
    inspector = world.web_app_init_data(people["inspector"])
    await page.goto(f"{served.base}/console/app#tgWebAppData={quote(inspector)}&tgWebAppVersion=8.0")
    await page.wait_for_url(f"{served.base}/console", timeout=10_000)
    assert "兴隆村" in await page.locator("#ranking").inner_text()
    await page.context.close()
