"""A realistic mix of updates through the full production Dispatcher beside a bare aiogram echo Dispatcher.

    .venv/bin/python bench/dispatch.py [--updates 2000] [--runs 3] [--no-memory] [--no-floor] [--profile FILE]

Production: build_dispatcher (the one wiring: conversation lock, session, person, language, FSM storage in
the database, every router) with a real Runtime on a temporary SQLite file. Echo: a Dispatcher with one
Router answering every message with its text and every tap with an acknowledgement and its data. Both
answer through the same in-process fake Telegram (FakeSession), one after another in slices, so that a busy
machine slows both alike; each is fed the same kinds of updates, in the same proportions (KINDS):

  start_known / start_new   /start from someone the bot knows, and from someone it has never seen (a write)
  help_known / help_new     /help: the commands of the person's roles
  text                      plain text in private outside any conversation: a confirmed resident is offered to
                            ask it as a question (two buttons; the text is kept in the conversation state)
  tap                       a staff member taps "edit title" under a draft: a role check, the state changes
  step                      the same staff member sends the title: the draft is written, the state moves on
  group                     chatter in a resident group, which the bot reads (it is an admin) and ignores before
                            the conversation lock and the database (bot/pipeline/quiet.py); the echo answers it,
                            so this kind's ratio is above 1 and says only that ignoring is cheap

For each kind and for the whole mix it prints updates per second of both, their ratio (issue 13 targets:
mix >= 0.3, no kind below 0.2, stretch 0.5), the CPU per update (the event loop's thread) and the
production side's hops to the database driver's thread per update. `--runs 3` prints min/median/max of
the ratios over three runs in one process. `--profile FILE` writes a cProfile of the production side.
The floor (`--no-floor` skips it) is what the stack itself allows a bot that keeps anything in its
database, with no logic of ours at all: the same echo Dispatcher with one outer middleware that reads the
sender's person row (the least any update of ours needs, to know who acts) and, in the "+ write" rows,
also writes one conversation row (the least a tap, a plain text or a drafting step needs), then commits;
through the ORM session (as the project's services are written) and through SQLAlchemy Core on a bare
connection. Fed /start, /help and plain text from known residents, interleaved with the plain echo.
Resident memory is that of a real `cunwu run` process (long polling the project's fake Bot API server over
HTTP, SQLite), read from /proc/<pid>/status once it polls and again after it has answered 200 /start from
50 people.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
from aiogram import Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from sqlalchemy import bindparam, select
from sqlmodel import col

from bot.base.settings import Settings
from bot.pipeline.fsm_storage import CONVERSATION_UPSERT
from bot.process.app import freeze_startup_heap
from bot.process.runtime import Runtime, build_runtime
from bot.process.wiring import build_bot, build_dispatcher
from bot.ui.keyboards.notices import DraftAction
from fake_telegram import FakeBotAPIServer, FakeChat, FakeSession, FakeTelegram, FakeUser
from fake_telegram.balancer import free_port
from models import FsmRecord, Person
from models.migrate import upgrade
from services.notices import drafts
from services.people.directory import person_by_tg, village_by_code
from services.people.directory_io import import_file, parse

TOKEN = "4242424242:BENCH-token-that-is-long-enough-to-look-real"
# How many of each kind in every 19 updates: most traffic is group chatter and people outside a conversation.
KINDS = {"group": 6, "text": 3, "start_known": 2, "start_new": 1, "help_known": 2, "help_new": 1, "tap": 2,
         "step": 2}
STAFF = 20  # staff members drafting at once (each alternates tap, step, tap, step...)
PEOPLE = 50  # known residents
DIRECTORY = """
township: {{code: hongqi, name: 红旗镇}}
villages:
  - code: xinglong
    name: 兴隆村
    groups: [{group}]
    roles:
      staff: [{staff}]
      resident: [{residents}]
"""


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


@dataclass
class Cast:
    world: FakeTelegram
    staff: list[FakeUser]
    residents: list[FakeUser]
    group: FakeChat
    drafts: dict[int, int] = field(default_factory=dict)  # staff user id -> their draft's notice id


def echo_dispatcher() -> Dispatcher:
    router = Router(name="echo")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    @router.callback_query()
    async def tapped(query: CallbackQuery) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(query.data or "")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


FLOORS = ("ORM read", "ORM read + write", "Core read", "Core read + write")
FLOOR_KINDS = ("text", "start_known", "help_known")  # from known residents: their person row exists


def floor_dispatcher(runtime: Runtime, variant: str) -> Dispatcher:
    """The echo with the least database work of a stateful bot (see the module docstring), one of FLOORS."""
    dispatcher, write, steps = echo_dispatcher(), variant.endswith("write"), itertools.count()
    # Who acts and their conversation, in one statement (as bot/pipeline/acting.py reads them).
    acting = (select(col(Person.id), FsmRecord).select_from(Person)
              .outerjoin(FsmRecord, col(FsmRecord.key) == bindparam("key"))
              .where(col(Person.tg_user_id) == bindparam("tg")))
    conversation = CONVERSATION_UPSERT  # the FSM storage's own statement

    async def orm(handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User = data["event_from_user"]
        async with runtime.sessions() as session:
            key = f"floor:{user.id}"
            row = (await session.exec(acting, params={"tg": user.id, "key": key})).one()  # type: ignore[call-overload]
            if write:
                record = row[1] or FsmRecord(key=key)
                record.state, record.updated_at = f"step {next(steps)}", runtime.clock.now()
                session.add(record)
            result = await handler(event, data)
            await session.commit()
            return result

    async def core(handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User = data["event_from_user"]
        async with runtime.engine.connect() as connection:
            key = f"floor:{user.id}"
            (await connection.execute(acting, {"tg": user.id, "key": key})).one()
            if write:
                await connection.execute(conversation, {"key": key, "data": {},
                                                        "state": f"step {next(steps)}",
                                                        "updated_at": runtime.clock.now()})
            result = await handler(event, data)
            await connection.commit()
            return result

    dispatcher.update.outer_middleware(orm if variant.startswith("ORM") else core)
    return dispatcher


async def floor_run(runtime: Runtime, rounds: int, slices: int = 10) -> dict[str, float]:
    """Each floor's rate as a share of the echo's, measured in interleaved slices like the mix."""
    sides: dict[str, tuple[Side, Bot]] = {}
    for name in ("echo", *FLOORS):
        world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
        cast = await seed(runtime, world)
        world.take_updates()
        dispatcher = echo_dispatcher() if name == "echo" else floor_dispatcher(runtime, name)
        sides[name] = (Side(dispatcher, Mix(cast)), build_bot(runtime, session=FakeSession(world)))
    for index in range(slices + 1):  # the first slice warms up and is not counted
        for side, bot in sides.values():
            updates = [(kind, raw) for kind, raw in side.mix.batch(max(1, rounds // slices)) if kind in FLOOR_KINDS]
            await feed(side.dispatcher, bot, updates, side.rates if index else None)
    for _, bot in sides.values():
        await bot.session.close()
    echo = sides["echo"][0].rates["mix"].per_second
    return {name: sides[name][0].rates["mix"].per_second / echo for name in FLOORS}


async def seed(runtime: Runtime, world: FakeTelegram) -> Cast:
    """A village with STAFF staff members (each with an untitled draft), PEOPLE residents and their group."""
    staff = [world.new_user(f"会计{i}") for i in range(STAFF)]
    residents = [world.new_user(f"村民{i}") for i in range(PEOPLE)]
    group = world.new_group("兴隆村村民群", members=residents, supergroup=True)
    text = DIRECTORY.format(group=group.id, staff=", ".join(str(u.id) for u in staff),
                            residents=", ".join(str(u.id) for u in residents))
    cast = Cast(world, staff, residents, group)
    async with runtime.sessions() as session:
        await import_file(session, parse(text))
        await session.flush()
        village = await village_by_code(session, "xinglong")
        assert village is not None and village.id is not None
        for user in staff:
            person = await person_by_tg(session, user.id)
            assert person is not None
            notice = await drafts.create_draft(session, person, village.id, None, None, runtime.clock.now())
            cast.drafts[user.id] = notice.id or 0
        await session.commit()
    world.add_bot_to_group(group, admin=True, can_pin=True)  # an admin reads every message of the group
    return cast


def _tap(world: FakeTelegram, user: FakeUser, data: str) -> None:
    """A tap on a button of the bot's last message in the private chat (the fake checks real buttons; the
    bench taps the draft's own "edit title" button without rendering the preview first)."""
    chat = world.private_chat(user)
    query_id = f"bench-{world._next_count('callback')}"
    world._open_callbacks.add(query_id)
    world._push_update("callback_query", {
        "id": query_id, "from": user.to_json(), "chat_instance": str(chat.id),
        "message": {"message_id": 1, "date": 0, "chat": chat.to_json(), "from": world.bot.to_json(),
                    "text": "草稿"},
        "data": data})


class Mix:
    """Makes updates of each kind, in the proportions of KINDS, for the production and the echo worlds."""

    def __init__(self, cast: Cast) -> None:
        self.cast, self.world = cast, cast.world
        self.counter = itertools.count()
        self.next_staff: dict[str, int] = defaultdict(int)

    def make(self, kind: str) -> None:
        world, cast, n = self.world, self.cast, next(self.counter)
        resident = cast.residents[n % len(cast.residents)]
        if kind in ("start_known", "help_known", "text"):
            command = {"start_known": "/start", "help_known": "/help", "text": f"你好 {n}"}[kind]
            world.user_sends(resident, world.private_chat(resident), command)
        elif kind in ("start_new", "help_new"):
            newcomer = world.new_user(f"新人{n}")
            world.user_sends(newcomer, world.private_chat(newcomer), "/start" if kind == "start_new" else "/help")
        elif kind == "group":
            world.user_sends(resident, cast.group, f"今天开会吗 {n}")
        elif kind in ("tap", "step"):
            index = self.next_staff[kind]
            self.next_staff[kind] = (index + 1) % len(cast.staff)
            user = cast.staff[index]
            if kind == "tap":
                _tap(world, user, DraftAction(notice_id=cast.drafts[user.id], action="title").pack())
            else:
                world.user_sends(user, world.private_chat(user), f"第{n}号通知")

    def batch(self, rounds: int) -> list[tuple[str, dict[str, Any]]]:
        """`rounds` x 19 updates; each staff member's tap comes before their step."""
        order = [kind for kind, weight in KINDS.items() for _ in range(weight)]
        kinds: list[str] = []
        for _ in range(rounds):
            for kind in order:
                self.make(kind)
                kinds.append(kind)
        raws = self.world.take_updates()
        assert len(raws) == len(kinds), (len(raws), len(kinds))
        return list(zip(kinds, raws, strict=True))


@dataclass
class Rate:
    """Wall-clock and CPU seconds spent feeding updates (parsing included, as polling hands them over)."""

    updates: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    hops: int = 0  # crossings to the database driver's thread (production only)

    def add(self, wall: float, cpu: float, hops: int) -> None:
        self.updates, self.wall, self.cpu = self.updates + 1, self.wall + wall, self.cpu + cpu
        self.hops += hops

    @property
    def per_second(self) -> float:
        return self.updates / self.wall if self.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.updates * 1000 if self.updates else 0.0


Rates = dict[str, Rate]


class Crossings:
    """Counts the production side's crossings to aiosqlite's thread (each is a hop: a queue, a future, the GIL
    handed over twice), by counting aiosqlite's one way of queueing work on its thread."""

    def __init__(self) -> None:
        self.count = 0
        queue = aiosqlite.Connection._execute

        async def counted(connection: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await queue(connection, fn, *args, **kwargs)

        aiosqlite.Connection._execute = counted  # type: ignore[method-assign,assignment]


async def feed(dispatcher: Dispatcher, bot: Bot, updates: list[tuple[str, dict[str, Any]]],
               rates: Rates | None = None, crossings: Crossings | None = None) -> None:
    """CPU is the event loop thread's (time.thread_time: cheap to read, where all of the bot's Python work
    runs now that no filter runs in a thread); time.process_time sums every thread and costs milliseconds
    a call on a loaded machine. The clocks are read outside the wall-clock interval."""
    for kind, raw in updates:
        hops, cpu = crossings.count if crossings else 0, time.thread_time()
        wall = time.perf_counter()
        await dispatcher.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
        wall = time.perf_counter() - wall
        if rates is not None:
            cpu, hops = time.thread_time() - cpu, (crossings.count - hops if crossings else 0)
            rates[kind].add(wall, cpu, hops)
            rates["mix"].add(wall, cpu, hops)


@dataclass
class Side:
    dispatcher: Dispatcher
    mix: Mix
    crossings: Crossings | None = None
    rates: Rates = field(default_factory=lambda: defaultdict(Rate))


Run = tuple[Rates, Rates, dict[str, float]]


async def one_run(count: int, profile: str | None, floor: bool = True) -> Run:
    with tempfile.TemporaryDirectory(prefix="cunwu-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'cunwu.db'}"
        await asyncio.to_thread(upgrade, url)
        runtime = build_runtime(Settings(_env_file=None, bot_token=TOKEN, database_url=url, redis_url=None))
        prod_world, echo_world = (FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0])) for _ in range(2))
        prod_cast, echo_cast = await seed(runtime, prod_world), await seed(runtime, echo_world)
        production = Side(build_dispatcher(runtime), Mix(prod_cast), Crossings())
        echo = Side(echo_dispatcher(), Mix(echo_cast))
        prod_bot = build_bot(runtime, session=FakeSession(prod_world))
        echo_bot = build_bot(runtime, session=FakeSession(echo_world))
        await feed(production.dispatcher, prod_bot, [("setup", raw) for raw in prod_world.take_updates()])
        echo_world.take_updates()
        freeze_startup_heap()  # as `cunwu run` does once its dispatcher is built
        profiler = cProfile.Profile() if profile else None
        rounds = max(1, count // sum(KINDS.values()))
        await _measure_both(production, prod_bot, echo, echo_bot, rounds, profiler)
        _check_answers(prod_world, prod_cast)
        if profiler is not None and profile:
            profiler.dump_stats(profile)
        for bot in (prod_bot, echo_bot):
            await bot.session.close()
        floors = await floor_run(runtime, rounds) if floor else {}
        await runtime.close()
    gc.unfreeze()  # the next run freezes its own start-up
    return production.rates, echo.rates, floors


async def _measure_both(production: Side, prod_bot: Bot, echo: Side, echo_bot: Bot, rounds: int,
                        profiler: cProfile.Profile | None, slices: int = 20) -> None:
    for side, bot in ((production, prod_bot), (echo, echo_bot)):
        await feed(side.dispatcher, bot, side.mix.batch(STAFF // KINDS["tap"]))  # warm-up: every path once
    per_slice = max(1, rounds // slices)
    for _ in range(slices):
        for number, (side, bot) in enumerate(((production, prod_bot), (echo, echo_bot))):
            updates = side.mix.batch(per_slice)
            if profiler is not None and number == 0:
                profiler.enable()
            await feed(side.dispatcher, bot, updates, side.rates, side.crossings)
            if profiler is not None and number == 0:
                profiler.disable()


def _check_answers(world: FakeTelegram, cast: Cast) -> None:
    """The bench measures the bot doing its work: the staff's drafts got titles, the group heard nothing."""
    said = [m.text for m in world.messages_in(cast.group) if m.from_bot]
    if said:
        raise SystemExit(f"bench: the bot spoke in the group: {said[:2]}")
    if not any(world.bot_messages(world.private_chat(user)) for user in cast.staff):
        raise SystemExit("bench: no staff member was answered")


def _row(name: str, prod: Rate, echo: Rate) -> tuple[str, ...]:
    ratio = prod.per_second / echo.per_second if echo.per_second else 0.0
    return (name, f"{prod.per_second:,.0f}/s", f"{echo.per_second:,.0f}/s", f"{ratio:.2f}",
            f"{prod.cpu_ms:.2f} / {echo.cpu_ms:.2f} ms", f"{prod.hops / prod.updates:.1f}")


def report(runs: list[Run]) -> dict[str, list[float]]:
    names = [*KINDS, "mix"]
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for prod, echo, _ in runs:
        for name in names:
            ratios[name].append(prod[name].per_second / echo[name].per_second)
    prod, echo, _ = runs[-1]
    rows: list[tuple[str, ...]] = [("kind", "production", "echo", "ratio", "CPU per update (prod / echo)",
                                    "DB hops per update")]
    rows += [_row(name, prod[name], echo[name]) for name in names]
    print(f"{prod['mix'].updates} updates in the mix per side (last run)")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.rjust(width) if i else cell.ljust(width)
                               for i, (cell, width) in enumerate(zip(row, widths, strict=True))))
    if len(runs) > 1:
        print(f"ratio over {len(runs)} runs, min / median / max:")
        for name in names:
            values = ratios[name]
            print(f"  {name:<12} {min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}")
    if runs[0][2]:
        print("floor: the echo plus the least database work of a stateful bot, no logic of ours "
              f"({' / '.join(FLOOR_KINDS)} from known residents), share of the echo, min / median / max:")
        for name in FLOORS:
            values = [floors[name] for _, _, floors in runs]
            print(f"  {name:<18} {min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}")
    return ratios


async def main(count: int, runs: int, memory: bool, profile: str | None, floor: bool) -> int:
    results = [await one_run(count, profile if index == 0 else None, floor) for index in range(runs)]
    ratios = report(results)
    medians = {name: statistics.median(values) for name, values in ratios.items()}
    ok = medians["mix"] >= 0.3 and min(medians.values()) >= 0.2
    print(f"targets: mix >= 0.3 ({medians['mix']:.2f}), every kind >= 0.2 (lowest {min(medians.values()):.2f})"
          f" -> {'met' if ok else 'NOT met'}")
    if memory:
        with tempfile.TemporaryDirectory(prefix="cunwu-bench-") as folder:
            after_start, loaded = await real_process_memory(Path(folder))
        print(f"`cunwu run` resident memory: {after_start:.0f} MB after start, {loaded:.0f} MB after 200 /start")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates per side in the measured mix")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-memory", action="store_true", help="skip the real process's resident memory")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor (echo + least database work)")
    parser.add_argument("--profile", help="write a cProfile of the production side (first run) to this file")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.updates, args.runs, not args.no_memory, args.profile, not args.no_floor)))
