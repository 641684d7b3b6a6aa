"""County scale: two `cunwu webhook` processes on PostgreSQL and Redis behind a proxy that plays nginx.

1,000 updates from 200 people are spread over both instances; one instance is SIGKILLed in the middle.
Like Telegram, the fake server sends an unconfirmed update again, and the proxy hands it to the survivor.
Nothing is lost or repeated; conversations (FSM in Redis) continue on whichever instance gets the next
update; the scheduler and the delivery worker move to the survivor (PostgreSQL advisory lock).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func
from sqlmodel import select

from bot.fakeapi import FakeBotAPIServer, FakeTelegram, FakeUser
from models import Invite, ProcessedUpdate, Village
from models.db import create_engine, session_factory
from models.migrate import upgrade
from tests.e2e.test_real_process import BotProcess, _env, _start, _stop
from tests.pg import create_database, drop_database

pytestmark = pytest.mark.skipif("postgresql" not in os.environ.get("CUNWU_TEST_DATABASES", "sqlite,postgresql"),
                                reason="needs PostgreSQL")

TOKEN = "6161616161:TWO-INSTANCES-token-never-logged-abcdefg"
SECRET = "webhook-secret-0123456789"
PEOPLE = 200
REDIS_URL = "redis://127.0.0.1:6379/7"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _fresh_database() -> str:
    url = await create_database("cunwu_multi")
    await asyncio.to_thread(upgrade, url)
    return url


class Proxy:
    """nginx in miniature: round robin over the instances, the next one when an instance does not answer."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = itertools.cycle(range(len(ports)))
        self.handled: dict[int, int] = dict.fromkeys(ports, 0)

    async def handle(self, request: web.Request) -> web.Response:
        body, headers = await request.read(), {k: v for k, v in request.headers.items() if k.lower() != "host"}
        first = next(self.turn)
        for offset in range(len(self.ports)):
            port = self.ports[(first + offset) % len(self.ports)]
            try:
                async with aiohttp.ClientSession() as client, client.post(
                        f"http://127.0.0.1:{port}/telegram", data=body, headers=headers,
                        timeout=aiohttp.ClientTimeout(total=30)) as answer:
                    self.handled[port] += 1
                    return web.Response(status=answer.status, body=await answer.read())
            except (aiohttp.ClientError, TimeoutError):
                continue
        return web.Response(status=502)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/telegram", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = _free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}/telegram"


async def _healthy(port: int) -> dict[str, object] | None:
    try:
        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/healthz") as answer:
            return await answer.json() if answer.status == 200 else None
    except aiohttp.ClientError:
        return None


async def _until(condition, limit: float, what: str) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[FakeTelegram, list[BotProcess], list[int], Proxy, str]]:
    import redis.asyncio as redis

    await redis.from_url(REDIS_URL).flushdb()
    url = await _fresh_database()
    world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
    server = FakeBotAPIServer(world, webhook_retry_delay=0.2)
    api = await server.start()
    ports = [_free_port(), _free_port()]
    proxy = Proxy(ports)
    hook = await proxy.start()
    admins = ",".join(str(9_100_000 + i) for i in range(PEOPLE))
    processes = []
    for index, port in enumerate(ports):
        folder = tmp_path / f"instance{index}"
        folder.mkdir()
        env = _env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api, DATABASE_URL=url.replace("postgresql://",
                   "postgresql+asyncpg://", 1), REDIS_URL=REDIS_URL, ADMIN_IDS=admins, WEBHOOK_URL=hook,
                   WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port), LEADER_INTERVAL="1", LOG_LEVEL="INFO")
        processes.append(await _start(folder, env, "webhook"))
    for port in ports:
        await _until(lambda port=port: _healthy(port), 60, f"instance on {port}")
    yield world, processes, ports, proxy, url.replace("postgresql://", "postgresql+asyncpg://", 1)
    for process in processes:
        await _stop(process)
    await proxy.runner.cleanup()
    await server.stop()
    await drop_database(url)


async def _replies(world: FakeTelegram, people: list[FakeUser], count: int, limit: float = 120) -> None:
    async def done() -> bool:
        return all(len(world.bot_messages(world.private_chat(p))) >= count for p in people)

    await _until(done, limit, f"{count} replies for each of {len(people)} people")


async def test_two_instances_lose_nothing_and_repeat_nothing(cluster) -> None:  # type: ignore[no-untyped-def]
    world, processes, ports, proxy, url = cluster
    people = [world.new_user(f"干部{i}", user_id=9_100_000 + i) for i in range(PEOPLE)]
    for person in people:  # 1: /start
        world.user_sends(person, world.private_chat(person), "/start")
    await _replies(world, people, 1)
    for i, person in enumerate(people):  # 2: a village each
        world.user_sends(person, world.private_chat(person), f"/newvillage t{i % 10} v{i} 村{i}")
    await _replies(world, people, 2)
    for i, person in enumerate(people):  # 3: a conversation: /invite CODE sets the state (in Redis) ...
        world.user_sends(person, world.private_chat(person), f"/invite v{i}")
    await _replies(world, people, 3)
    leading = [index for index, port in enumerate(ports) if await _leads(port)]
    assert len(leading) == 1, "exactly one instance leads"
    leader, survivor = leading[0], 1 - leading[0]
    for i, person in enumerate(people):  # 4: ... and the role tap needs it, on whichever instance gets it
        chat = world.private_chat(person)
        message = world.bot_messages(chat)[-1]
        data = next(b["callback_data"] for row in message.data["reply_markup"]["inline_keyboard"] for b in row
                    if b["text"] == "村务公开人员")  # the staff button
        world.user_taps(person, chat, message.message_id, data)
        if i == PEOPLE // 2:  # the leading instance dies in the middle of the conversations
            processes[leader].process.send_signal(signal.SIGKILL)
    await _replies(world, people, 4)
    for person in people:  # 5: /help
        world.user_sends(person, world.private_chat(person), "/help")
    await _replies(world, people, 5)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions() as session:
        villages = (await session.exec(select(func.count()).select_from(Village))).one()
        invites = (await session.exec(select(func.count()).select_from(Invite))).one()
        processed = (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
    await engine.dispose()
    assert villages == PEOPLE and invites == PEOPLE
    assert processed >= 5 * PEOPLE
    for person in people:
        texts = [m.text for m in world.bot_messages(world.private_chat(person))]
        assert sum(t.startswith("🔗") for t in texts) == 1, texts  # exactly one "invite created"
    assert proxy.handled[ports[0]] > 0 and proxy.handled[ports[1]] > 0
    await _until(lambda: _leads(ports[survivor]), 60, "the survivor to lead (scheduler and delivery)")


async def _leads(port: int) -> bool:
    health = await _healthy(port)
    return bool(health and health.get("leader"))
