"""Broadcast throughput against Telegram's limits at their real rates.

    .venv/bin/python bench/broadcast.py [--groups 300] [--villages 50] [--per-village 6]
                                        [--latency-ms 50] [--concurrency 4] [--load 1]

The fake Telegram enforces the limits (30 messages/s per bot, 20/min per group, ~1/s per private chat)
and answers 429 with retry_after when they are broken; it sits behind the project's FakeBotAPIServer, so
the bot talks to it over HTTP with aiogram's ordinary AiohttpSession. Notices are published with the
services (directory import, draft, submit, approve) on a temporary SQLite database; what is measured is
the real DeliveryWorker with its default Limits and DELIVERY_CONCURRENCY, from the moment it starts until
the last group has the notice. The messages to people's private chats (reviewer requests, the author's
progress) are set aside first, so the figure is the broadcast's own.

(a) one notice to N groups (300 groups take about 10 s at 30 messages/s);
(b) V villages publishing at the same moment, G groups each.
Target (issue 13): rate / limit >= 0.95 and no 429, with and without a competing CPU load.

What counts against the limit is every request Telegram counts: messages, pins (each notice is pinned in
its group) and edits; the rate is those requests over the time from the worker's start to the last one.

cpu ms/req: this process's CPU time per counted request (the worker, SQLite and the fake Telegram with its
HTTP server, all in this process): at 30 requests/s the process needs 30 x that per second of CPU, so above
~33 ms no limiter can keep the rate, whatever the burst.

--load N runs every scenario twice: as is, and with N busy processes (a pure-Python loop each) competing
for the CPUs, as other programs on a small server do; both rates are printed.

--latency-ms adds a network round trip to every request (half on the way there, half on the way back),
as a real connection to api.telegram.org has; --concurrency is DELIVERY_CONCURRENCY, the rows (of
different chats) in flight at once. With one row in flight, each row waits for its round trips and its
database writes, so the rate falls with latency; a few rows in flight hide it, and the limiters (not the
latency) set the pace again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col, func, select

from bot.base.settings import Settings
from bot.delivery.worker import DeliveryWorker, Limits
from bot.process.runtime import Runtime, build_runtime
from bot.process.wiring import build_bot
from fake_telegram import FakeBotAPIServer, FakeTelegram
from models import OutboxMessage
from models.migrate import upgrade
from services.notices import drafting, drafts, review
from services.people.directory import get_or_create_person
from services.people.directory_io import import_file, parse

TOKEN = "4242424242:BENCH-token-that-is-long-enough-to-look-real"
LIMIT = Limits().per_second
COUNTED = {"sendmessage", "sendphoto", "senddocument", "pinchatmessage", "unpinchatmessage", "editmessagetext",
           "editmessagecaption", "editmessagereplymarkup"}
BUSY = "while True: pass"


class LatentTelegram(FakeTelegram):
    """The fake Telegram at the far end of a network: every answer takes `latency` seconds to come back."""

    def __init__(self, *args: Any, latency: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latency = latency

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(self.latency / 2)
        reply = await super().call(*args, **kwargs)
        await asyncio.sleep(self.latency / 2)
        return reply


@dataclass
class Result:
    name: str
    messages: int
    requests: int  # messages, pins and edits: what the limit counts
    seconds: float
    count_429: int
    cpu: float  # CPU seconds of this process (worker, database and the fake Telegram) during the broadcast

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def directory_text(code: int, groups: list[int], staff: int, secretary: int) -> str:
    return (f"township: {{code: t{code}, name: 镇{code}}}\n"
            f"villages:\n  - code: v{code}\n    name: 村{code}\n    review_chain: [secretary]\n"
            f"    groups: [{', '.join(map(str, groups))}]\n"
            f"    roles: {{staff: [{staff}], secretary: [{secretary}]}}\n")


async def publish_village(runtime: Runtime, world: FakeTelegram, code: int, groups: int) -> None:
    """A village with `groups` resident groups and one approved notice (its broadcast is queued)."""
    chats = [world.new_group(f"村{code}群{i}", supergroup=True) for i in range(groups)]
    for chat in chats:
        world.add_bot_to_group(chat, admin=True, can_pin=True)
    staff, secretary = world.new_user(f"会计{code}"), world.new_user(f"书记{code}")
    now, policy = runtime.clock.now(), runtime.policy
    async with runtime.sessions() as session:
        await import_file(session, parse(directory_text(code, [c.id for c in chats], staff.id, secretary.id)))
        author = await get_or_create_person(session, staff.id, staff.first_name, None)
        reviewer = await get_or_create_person(session, secretary.id, secretary.first_name, None)
        village_id = await _village_id(session, f"v{code}")
        start = await drafting.start(session, policy, author, village_id, "cw.1", now)
        notice_id = start.notice.id or 0
        if start.periods:
            await drafting.set_period(session, policy, author, notice_id, start.periods[0])
        await drafts.set_title(session, author, notice_id, f"村{code} 财务收支情况", now)
        await drafts.set_body(session, author, notice_id, "本季度收入12万元，支出8万元。", now)
        notice = await review.submit(session, policy, author, notice_id, now)
        await review.decide(session, policy, reviewer, notice_id, notice.version, 0, "approve", None, now)
        await session.commit()


async def _village_id(session: object, code: str) -> int:
    from services.people.directory import village_by_code

    village = await village_by_code(session, code)  # type: ignore[arg-type]
    assert village is not None and village.id is not None
    return village.id


async def set_private_aside(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        result = await session.exec(
            update(OutboxMessage).where(col(OutboxMessage.chat_id) > 0, col(OutboxMessage.status) == "pending")
            .values(status="sent"))
        await session.commit()
        return int(result.rowcount)


async def pending(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        found = await session.exec(select(func.count()).select_from(OutboxMessage).where(
            col(OutboxMessage.status).in_(["pending", "sending"])))
        return int(found.one())


async def scenario(name: str, villages: int, groups: int, latency: float, concurrency: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="cunwu-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'cunwu.db'}"
        await asyncio.to_thread(upgrade, url)
        world = LatentTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]), enforce_limits=True, latency=latency)
        async with FakeBotAPIServer(world) as server:
            settings = Settings(_env_file=None, bot_token=TOKEN, telegram_api_url=server.base_url,
                                database_url=url, redis_url=None, delivery_concurrency=concurrency)
            runtime = build_runtime(settings)
            for code in range(villages):
                await publish_village(runtime, world, code, groups)
            await set_private_aside(runtime)
            bot = build_bot(runtime)
            worker = DeliveryWorker(runtime, bot)
            stop = asyncio.Event()
            started = time.monotonic()  # the fake world stamps its requests with time.monotonic
            cpu = time.process_time()
            task = asyncio.create_task(worker.run_forever(stop))
            while await pending(runtime):  # noqa: ASYNC110 (the database is what we wait on)
                await asyncio.sleep(0.25)  # a cheap poll: the rate is timed by the requests, not by this
            sends = [r.time for r in world.requests_for("sendMessage") if r.ok]
            counted = [r.time for r in world.requests if r.ok and r.method.lower() in COUNTED]
            cpu = time.process_time() - cpu
            stop.set()
            await task
            await bot.session.close()
            await runtime.close()
    # From the worker's start to the last request the limit counts: what the last group waits for.
    seconds = max(counted) - started if counted else 0.0
    return Result(name, len(sends), len(counted), seconds, world.count_429, cpu)


@contextmanager
def busy(processes: int) -> Iterator[None]:
    """`processes` CPU-bound processes competing with the bench for the CPUs while the block runs."""
    spinning = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(processes)]
    try:
        yield
    finally:
        for process in spinning:
            process.kill()
            process.wait()


async def main(groups: int, villages: int, per_village: int, latency_ms: float, concurrency: int, load: int) -> int:
    latency = latency_ms / 1000
    results: list[tuple[str, Result]] = []
    for loaded in (0, load) if load else (0,):
        with busy(loaded):
            results += [
                (f"{loaded} busy", await scenario(f"(a) one notice to {groups} groups", 1, groups, latency,
                                                  concurrency)),
                (f"{loaded} busy", await scenario(f"(b) {villages} villages x {per_village} groups at once",
                                                  villages, per_village, latency, concurrency)),
            ]
    print(f"Telegram limit {LIMIT:.0f} requests/s (messages, pins, edits); target rate/limit >= 0.95 and 0 x 429")
    print(f"  network round trip {latency_ms:.0f} ms, DELIVERY_CONCURRENCY={concurrency}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  {'scenario':<42} {'load':>7} {'messages':>8} {'requests':>8} {'seconds':>8} {'req/s':>7} "
          f"{'of limit':>9} {'429s':>5} {'cpu ms/req':>8}")
    for busy_label, r in results:
        print(f"  {r.name:<42} {busy_label:>7} {r.messages:>8} {r.requests:>8} {r.seconds:>8.1f} {r.rate:>7.1f} "
              f"{r.rate / LIMIT:>9.2f} {r.count_429:>5} {1000 * r.cpu / max(r.requests, 1):>8.1f}")
    return 0 if all(r.rate / LIMIT >= 0.95 and r.count_429 == 0 for _, r in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--villages", type=int, default=50)
    parser.add_argument("--per-village", type=int, default=6)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="network round trip per request")
    parser.add_argument("--concurrency", type=int, default=Settings.model_fields["delivery_concurrency"].default,
                        help="DELIVERY_CONCURRENCY: rows of different chats in flight at once")
    parser.add_argument("--load", type=int, default=0, metavar="N",
                        help="also run with N busy processes competing for the CPUs")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.groups, args.villages, args.per_village, args.latency_ms,
                                      args.concurrency, args.load)))
