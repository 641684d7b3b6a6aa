"""The real `cunwu run` serving the board (WEB_PORT, PUBLIC_BASE_URL) against the fake Bot API server, with
notices published through it by people as in the demo, and Debian's Chromium driven by Playwright.

One process and one browser per module and database (a module-scoped event loop): starting them costs
seconds, each check a fraction of one. `make test` keeps these tests on one worker (xdist group "browser").
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from sqlmodel import col, select

from bot.ui.texts import Texts
from demo.story import CHAPTERS, Stage, StoryError, Transcript, play_story
from fake_telegram import FakeBotAPIServer, FakeTelegram
from fake_telegram.balancer import free_port
from models import Notice
from models.db import create_engine, session_factory
from tests.conftest import ADMIN_ID, ENGINES
from tests.e2e.test_real_process import BotProcess, HandledLog, _env, _start, _stop, _wait_started
from tests.pg import scratch_database

TOKEN = "6262626262:BROWSER-e2e-token-that-must-never-be-logged"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE, MASKED = "13812345678", "138****5678"
STORY = [chapter for chapter in CHAPTERS if chapter[0] in ("ch.onboarding", "ch.notices")]


@dataclass
class Served:
    stage: Stage
    base: str
    bot: BotProcess
    database_url: str
    folder: Path
    notices: dict[str, int] = field(default_factory=dict)  # what the module published: "finance", "phone", ...


async def _wait_board(base: str, bot: BotProcess) -> None:
    for _ in range(200):
        try:
            async with aiohttp.ClientSession() as client, client.get(base + "/") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        if bot.process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    pytest.fail(f"the board at {base} did not answer: {bot.output()[-2000:]}")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENGINES)
async def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    folder = tmp_path_factory.mktemp(f"board-{request.param}")
    async with _database(request.param, folder) as database_url:
        world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        async with FakeBotAPIServer(world) as server:
            env = _env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.base_url, DATABASE_URL=database_url,
                       ADMIN_IDS=str(ADMIN_ID), LOG_LEVEL="INFO", WEB_PORT=str(port), PUBLIC_BASE_URL=base,
                       WEB_RATE_LIMIT="3000")  # one address (the tests) asks for everything
            bot = await _start(folder, env, "run")
            engine = create_engine(database_url)
            try:
                await _wait_started(world, bot)
                await _wait_board(base, bot)
                log = HandledLog(bot.stderr)
                stage = Stage(world, session_factory(engine), lang="zh", texts=Texts("zh"), settle=0.2, timeout=30,
                              all_handled=lambda: log.finished(world))
                stage.facts["board"] = base
                served = Served(stage, base, bot, database_url, folder)
                await _publish_all(served)
                yield served
            finally:
                await _stop(bot)
                await engine.dispose()


def _database(engine: str, folder: Path) -> Any:
    if engine == "postgresql":
        return scratch_database("cunwu_browser")

    class SQLite:
        async def __aenter__(self) -> str:
            return f"sqlite+aiosqlite:///{folder / 'cunwu.db'}"

        async def __aexit__(self, *exc: object) -> None:
            return None

    return SQLite()


async def _publish_all(served: Served) -> None:
    """The demo's onboarding and first notice, then a notice with a phone number (masked by the clerk's tap)
    and one that is published and then retracted."""
    stage = served.stage
    try:
        await play_story(stage, chapters=STORY)
        served.notices["finance"] = await _newest(stage)
        await publish(stage, "村道维修工程联系人", f"工程联系人：王师傅，电话{PHONE}。维修费用5万元。", mask=True)
        served.notices["phone"] = await _newest(stage)
        await publish(stage, "误发的名单", "这份名单发错了，应当撤回。")
        served.notices["retracted"] = await _newest(stage)
        await retract(stage, served.notices["retracted"], "名单有误，撤回重新核对")
    except StoryError as error:
        seen = Transcript(stage).render("what people saw", since={})
        pytest.fail(f"{error}\n{seen}\n--- bot log (end) ---\n{served.bot.output()[-3000:]}")


async def publish(stage: Stage, title: str, body: str, *, mask: bool = False) -> None:
    staff, secretary, supervisor = stage.people["staff"], stage.people["secretary"], stage.people["supervisor"]
    await stage.send(staff, "/draft")
    await stage.tap(staff, data="dc1:*:cw")
    await stage.tap(staff, data="di1:*:cw.1")
    await stage.tap(staff, data="dq1:*")
    await stage.send(staff, title)
    await stage.send(staff, body)
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.submit"))
    if mask:  # the privacy screen stopped the submission: one tap masks every number it found
        await stage.tap(staff, stage.ui("btn.mask_all"))
        await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(secretary, stage.ui("btn.approve"))
    await stage.tap(supervisor, stage.ui("btn.approve"))
    stage.expect(title in stage.last(stage.chats["residents1"]), f"{title} was not published")


async def retract(stage: Stage, notice_id: int, reason: str) -> None:
    staff, secretary = stage.people["staff"], stage.people["secretary"]
    await stage.send(staff, "/archive")
    await stage.tap(staff, data=f"mg1:{notice_id}:retract")
    await stage.send(staff, reason)
    await stage.tap(secretary, data=f"rt1:{notice_id}")


async def _newest(stage: Stage) -> int:
    async with stage.sessions() as session:
        notice = (await session.exec(select(Notice).order_by(col(Notice.id).desc()))).first()
        assert notice is not None and notice.id is not None
        return notice.id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make` installs it when run as root, else: "
                    "sudo apt-get install -y chromium fonts-noto-cjk")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
