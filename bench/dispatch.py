"""Updates per second through the full production Dispatcher beside a bare aiogram echo Dispatcher.

    .venv/bin/python bench/dispatch.py [--updates 2000] [--users 50]

Production: build_dispatcher (the one wiring: session middleware, person lookup, language, FSM storage in
the database, every router) with a real Runtime on a temporary SQLite file; /start from 50 different
people. Echo: a Dispatcher with one Router answering every message with its text. Both answer through
the same in-process fake Telegram (FakeSession), fed the same kind of updates in the same run, one after
another. Resident memory is that of a real `cunwu run` process (long polling the project's fake Bot API
server over HTTP, SQLite), read from /proc/<pid>/status once it polls and again after it has answered
200 /start from 50 people. Targets (issue 2): ratio >= 0.3 on SQLite, RSS < 120 MB.

Where the time and memory go (2026-11-30, quiet machine: 291 vs 4,200 updates/s, 127 MB): `import aiogram`
builds ~700 pydantic models (~80 MB) unless bot/ imports it lazily (bot/base/lazy_aiogram.py, 39 MB then); the
imports of everything `cunwu run` needs come to 117 MB before it does anything. A /start costs three
indexed reads (person, conversation state, roles), each ~0.8 ms of CPU in SQLAlchemy's ORM and hops to
aiosqlite's worker thread; cProfile shows the time there, not in the handlers (README, Benchmarks).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

from bot.base.settings import Settings
from bot.process.runtime import build_runtime
from bot.process.wiring import build_bot, build_dispatcher
from fake_telegram import FakeBotAPIServer, FakeSession, FakeTelegram
from fake_telegram.balancer import free_port
from models.migrate import upgrade

TOKEN = "4242424242:BENCH-token-that-is-long-enough-to-look-real"
WARMUP = 100


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _until(condition: Any, seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise SystemExit(f"bench: {what} did not happen within {seconds:.0f} s")
        await asyncio.sleep(0.05)


async def real_process_memory(folder: Path, starts: int = 200, users: int = 50) -> tuple[float, float]:
    """VmRSS of a real `cunwu run` (SQLite, long polling the fake Bot API) after start and after load."""
    world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
    server = FakeBotAPIServer(world)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "REDIS_", "TELEGRAM_"))}
    env.update(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=await server.start(), LOG_LEVEL="WARNING",
               DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'run.db'}", WEB_PORT=str(free_port()))  # the board too
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli.main", "run", cwd=folder, env=env,
                                                   stdout=asyncio.subprocess.DEVNULL)
    try:
        await _until(lambda: len(world.requests_for("getUpdates")) >= 2, 120, "cunwu run polling")
        after_start = rss_mb(process.pid)
        people = [world.new_user(f"住户{i}") for i in range(users)]
        for index in range(starts):
            world.user_sends(people[index % users], world.private_chat(people[index % users]), "/start")
        await _until(lambda: sum(len(world.bot_messages(world.private_chat(p))) for p in people) >= starts, 300,
                     f"{starts} answers")
        return after_start, rss_mb(process.pid)
    finally:
        process.terminate()
        await process.wait()
        await server.stop()


def echo_dispatcher() -> Dispatcher:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


def updates(world: FakeTelegram, count: int, users: int, text: str) -> list[dict[str, Any]]:
    people = [world.new_user(f"村民{i}") for i in range(users)]
    for index in range(count):
        person = people[index % users]
        world.user_sends(person, world.private_chat(person), text)
    return world.take_updates()


@dataclass
class Rate:
    """Wall-clock and CPU seconds spent feeding updates (parsing included, as polling hands them over)."""

    updates: int = 0
    wall: float = 0.0
    cpu: float = 0.0

    @property
    def per_second(self) -> float:
        return self.updates / self.wall

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.updates * 1000


async def feed(dispatcher: Dispatcher, bot: Bot, raws: list[dict[str, Any]], rate: Rate | None = None) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    for raw in raws:
        await dispatcher.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
    if rate is not None:
        rate.updates += len(raws)
        rate.wall += time.perf_counter() - wall
        rate.cpu += time.process_time() - cpu


async def measure(runs: list[tuple[Dispatcher, list[dict[str, Any]]]], bot: Bot, rounds: int = 20) -> list[Rate]:
    """Each dispatcher's updates in `rounds` slices, taken in turn, so that a busy machine slows all alike."""
    for dispatcher, raws in runs:
        await feed(dispatcher, bot, raws[:WARMUP])
    rates = [Rate() for _ in runs]
    timed = [raws[WARMUP:] for _, raws in runs]
    for index in range(rounds):
        for (dispatcher, _), raws, rate in zip(runs, timed, rates, strict=True):
            size = len(raws) // rounds
            await feed(dispatcher, bot, raws[index * size:(index + 1) * size], rate)
    return rates


async def main(count: int, users: int) -> int:
    with tempfile.TemporaryDirectory(prefix="cunwu-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'cunwu.db'}"
        await asyncio.to_thread(upgrade, url)
        settings = Settings(_env_file=None, bot_token=TOKEN, database_url=url, redis_url=None)
        runtime = build_runtime(settings)
        world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
        production = build_dispatcher(runtime)
        bot = build_bot(runtime, session=FakeSession(world))
        echo = echo_dispatcher()
        prod, bare = await measure([(production, updates(world, count + WARMUP, users, "/start")),
                                    (echo, updates(world, count + WARMUP, users, "你好"))], bot)
        await bot.session.close()
        await runtime.close()
        memory, loaded = await real_process_memory(Path(folder))
    ratio = prod.per_second / bare.per_second
    rows = [
        ("production Dispatcher (/start, SQLite)", f"{prod.per_second:,.0f} updates/s",
         f"{prod.cpu_ms:.2f} ms CPU each"),
        ("bare aiogram echo Dispatcher", f"{bare.per_second:,.0f} updates/s", f"{bare.cpu_ms:.2f} ms CPU each"),
        ("ratio production / echo (wall clock)", f"{ratio:.2f}", "target >= 0.3"),
        ("`cunwu run` resident memory after start", f"{memory:.0f} MB", "target < 120 MB"),
        ("`cunwu run` resident memory after 200 /start", f"{loaded:.0f} MB", ""),
    ]
    print(f"{count} updates from {users} people, after {WARMUP} warm-up updates each")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"  {name:<{width}}  {value:>18}  {target}")
    return 0 if ratio >= 0.3 and memory < 120 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.updates, args.users)))
