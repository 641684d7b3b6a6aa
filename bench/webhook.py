"""Updates per second through `cunwu webhook`: one instance, then two, as separate processes on
PostgreSQL and Redis.

    .venv/bin/python bench/webhook.py [--people 200] [--rounds 5] [--pg postgresql+asyncpg://...]

Each run starts the real processes (`python -m bot.cli.main webhook`) on a fresh PostgreSQL database behind
the project's load balancer (fake_telegram/balancer.py), fed by the fake Bot API server's webhook delivery
the way Telegram feeds a bot: up to 40 updates in flight (Telegram's default max_connections), each
confirmed only when handled. People send /start and /help in turn; a warm-up round (everybody's first
/start, which creates their Person row) is not timed. What is timed: from the first update queued to the
last reply received. The figures depend on the machine: its CPU count and load average are printed too,
and the bench, the fake Telegram and every instance share those CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fake_telegram import FakeBotAPIServer, FakeTelegram, FakeUser
from fake_telegram.balancer import Balancer, free_port
from models.migrate import upgrade

SECRET = "bench-webhook-secret-0123456789"
REDIS_URL = os.environ.get("CUNWU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_URL = os.environ.get("CUNWU_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@dataclass
class Result:
    instances: int
    updates: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds


async def admin_sql(statement: str) -> None:
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def fresh_database() -> str:
    name = f"cunwu_bench_{os.getpid()}_{secrets.token_hex(3)}"
    await admin_sql(f"CREATE DATABASE {name}")
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    return url


async def healthy(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as client, client.get(f"http://127.0.0.1:{port}/healthz") as answer:
            return answer.status == 200
    except aiohttp.ClientError:
        return False


async def start_instances(ports: list[int], env: dict[str, str], folder: Path) -> list[asyncio.subprocess.Process]:
    processes = []
    for port in ports:
        log = (folder / f"instance-{port}.log").open("wb")
        processes.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.main", "webhook", cwd=folder, stdout=log, stderr=log,
            env={**env, "WEBHOOK_PORT": str(port)}))
    deadline = time.monotonic() + 90
    while not all([await healthy(port) for port in ports]):
        if time.monotonic() > deadline:
            raise SystemExit(f"the instances did not start; see {folder}")
        await asyncio.sleep(0.2)
    return processes


async def replies(world: FakeTelegram, people: list[FakeUser], each: int, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while not all(len(world.bot_messages(world.private_chat(p))) >= each for p in people):
        if time.monotonic() > deadline:
            raise SystemExit(f"not every reply came within {limit:.0f} s")
        await asyncio.sleep(0.01)


async def run(instances: int, people_count: int, rounds: int) -> Result:
    bot_id = random.randint(1_000_000_000, 1_999_999_999)  # Redis keys fsm:<bot id>:... of this run only
    token = f"{bot_id}:BENCH-webhook-{secrets.token_urlsafe(24)}"
    url = await fresh_database()
    world = FakeTelegram(token, bot_id=bot_id)
    server = FakeBotAPIServer(world)
    api = await server.start()
    balancer: Balancer | None = None
    processes: list[asyncio.subprocess.Process] = []
    with tempfile.TemporaryDirectory(prefix="cunwu-bench-") as folder:
        try:
            env = {**os.environ, "BOT_TOKEN": token, "TELEGRAM_API_URL": api, "DATABASE_URL": url,
                   "REDIS_URL": REDIS_URL, "WEBHOOK_SECRET": SECRET, "LOG_LEVEL": "WARNING", "ADMIN_IDS": ""}
            ports = [free_port() for _ in range(instances)]
            balancer = Balancer(ports)
            env["WEBHOOK_URL"] = await balancer.start()
            processes = await start_instances(ports, env, Path(folder))
            return await measure(world, people_count, rounds, instances)
        finally:
            for process in processes:
                process.terminate()
                await process.wait()
            if balancer is not None:
                await balancer.stop()
            await server.stop()
            await admin_sql(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")
            await forget_redis_keys(bot_id)


async def measure(world: FakeTelegram, people_count: int, rounds: int, instances: int) -> Result:
    people = [world.new_user(f"村民{i}", user_id=8_000_000 + i) for i in range(people_count)]
    for person in people:  # warm-up: Person rows, connection pools, first imports of every template
        world.user_sends(person, world.private_chat(person), "/start")
    await replies(world, people, 1)
    started = time.perf_counter()
    for turn in range(rounds):
        for person in people:
            world.user_sends(person, world.private_chat(person), "/help" if turn % 2 == 0 else "/start")
    await replies(world, people, 1 + rounds)
    return Result(instances, people_count * rounds, time.perf_counter() - started)


async def forget_redis_keys(bot_id: int) -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"fsm:{bot_id}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def main(people: int, rounds: int) -> int:
    one = await run(1, people, rounds)
    two = await run(2, people, rounds)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (shared by the bench, the fake Telegram and the "
          "instances)")
    print(f"load: {people} people, {rounds} rounds of /help and /start = {one.updates} updates per run, "
          "up to 40 in flight (Telegram's max_connections)")
    for result in (one, two):
        print(f"{result.instances} instance{'s' if result.instances > 1 else ''}: {result.updates} updates in "
              f"{result.seconds:.1f} s = {result.rate:.0f} updates/s")
    print(f"ratio two / one: {two.rate / one.rate:.2f}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg", help="PostgreSQL server URL with an existing database (default: CUNWU_TEST_PG_URL)")
    arguments = parser.parse_args()
    if arguments.pg:
        PG_URL = arguments.pg
    raise SystemExit(asyncio.run(main(arguments.people, arguments.rounds)))
