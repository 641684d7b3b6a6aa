"""The whole story (demo/story.py) through two real `cunwu webhook` processes on PostgreSQL and Redis,
behind the load balancer, at LOG_LEVEL=DEBUG: it plays as it does with polling, and neither the bot
token nor the webhook secret appears anywhere in either instance's output."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
from pathlib import Path

import aiohttp
import pytest

from bot.ui.texts import Texts
from demo.story import ADMIN_ID, Stage, StoryError, Transcript, play_story
from fake_telegram import FakeBotAPIServer, FakeTelegram
from fake_telegram.balancer import Balancer, free_port
from models.db import create_engine, session_factory
from models.migrate import upgrade
from tests.e2e.test_real_process import BotProcess, HandledLog, _env, _start, _stop, story_clock
from tests.pg import scratch_database

pytestmark = pytest.mark.skipif("postgresql" not in os.environ.get("CUNWU_TEST_DATABASES", "sqlite,postgresql"),
                                reason="needs PostgreSQL")

REDIS_URL = os.environ.get("CUNWU_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def _healthy(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/healthz") as answer:
            return answer.status == 200
    except aiohttp.ClientError:
        return False


async def _wait_healthy(port: int, bot: BotProcess) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not await _healthy(port):
        if bot.process.returncode is not None or loop.time() > deadline:
            pytest.fail(f"the instance on {port} did not start: {bot.output()[-2000:]}")
        await asyncio.sleep(0.2)


async def test_the_story_through_two_webhook_instances_logs_no_secret(tmp_path: Path) -> None:
    bot_id = random.randint(1_000_000_000, 1_999_999_999)  # Redis keys fsm:<bot id>:... of this run only
    token = f"{bot_id}:WEBHOOK-E2E-{secrets.token_urlsafe(24)}"
    secret = f"hook-{secrets.token_urlsafe(18)}"
    world = FakeTelegram(token, bot_id=bot_id)
    clock_file = tmp_path / "clock.txt"  # the deadlines chapter moves both instances' clock
    bots: list[BotProcess] = []
    async with scratch_database("cunwu_hook") as url, FakeBotAPIServer(world) as server:
        await asyncio.to_thread(upgrade, url)
        ports = [free_port(), free_port()]
        balancer = Balancer(ports)
        hook = await balancer.start()
        engine = create_engine(url)
        try:
            for index, port in enumerate(ports):
                folder = tmp_path / f"instance{index}"
                folder.mkdir()
                env = _env(BOT_TOKEN=token, TELEGRAM_API_URL=server.base_url, DATABASE_URL=url, REDIS_URL=REDIS_URL,
                           ADMIN_IDS=str(ADMIN_ID), WEBHOOK_URL=hook, WEBHOOK_SECRET=secret, WEBHOOK_PORT=str(port),
                           LOG_LEVEL="DEBUG", FAKE_CLOCK_FILE=str(clock_file),
                           PUBLIC_BASE_URL=f"http://127.0.0.1:{ports[0]}")  # the board, beside the first webhook
                bots.append(await _start(folder, env, "webhook"))
            for port, bot in zip(ports, bots, strict=True):
                await _wait_healthy(port, bot)
            log = HandledLog(*(bot.stderr for bot in bots))
            stage = Stage(world, session_factory(engine), lang="zh", texts=Texts("zh"), settle=0.3, timeout=30,
                          all_handled=lambda: log.finished(world))
            story_clock(stage, clock_file)
            stage.facts["board"] = f"http://127.0.0.1:{ports[0]}"
            try:
                await play_story(stage)
            except StoryError as error:
                seen = Transcript(stage).render("what people saw", since={})
                pytest.fail(f"{error}\n{seen}\n--- logs (end) ---\n{bots[0].output()[-2000:]}")
        finally:
            for bot in bots:
                await _stop(bot)
            await engine.dispose()
            await balancer.stop()
            await _forget_redis_keys(bot_id)
    assert {f.port for f in balancer.log if f.outcome == "ok"} == set(ports)  # both instances served people
    for bot in bots:
        logs = bot.output()
        assert "DEBUG" in logs  # the level really was DEBUG, so request logging had its chance to leak
        assert token not in logs and token.split(":")[1] not in logs
        assert secret not in logs


async def _forget_redis_keys(bot_id: int) -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"fsm:{bot_id}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
