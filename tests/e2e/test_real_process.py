"""The real `cunwu run` process against the project's fake Bot API server, over HTTP.

The server and its world live in the test's event loop; the bot is a subprocess that knows only the
environment an operator would give it. People act through the world's driver methods, and the story is
the demo's (demo/story.py), so what `cunwu demo` shows is what is tested here against the real process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.ui.texts import Texts
from catalogs import load_registry
from demo.clock import FileStoryClock
from demo.story import Stage, StoryError, Transcript, play_story
from fake_telegram import FakeBotAPIServer, FakeTelegram
from fake_telegram.balancer import free_port
from models.db import create_engine, session_factory
from services.policy import Policy
from tests.conftest import ADMIN_ID, ENGINES
from tests.pg import scratch_database

TOKEN = "5151515151:E2E-secret-token-that-must-never-be-logged-xyz"
# Never `test` (the unit tests own that schema); one per test process, so parallel runs do not collide.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


class HandledLog:
    """Which updates the processes have finished: aiogram logs "Update id=N is handled" (or "is not handled")
    at INFO once the whole middleware chain, the commit included, has returned. Several processes (webhook
    instances) each log the updates they handled. Read incrementally."""

    LINE = re.compile(rb"Update id=(\d+) is (?:not )?handled")

    def __init__(self, *paths: Path) -> None:
        self.offsets, self.rests, self.ids = dict.fromkeys(paths, 0), dict.fromkeys(paths, b""), set[int]()

    def read(self) -> set[int]:
        for path, offset in self.offsets.items():
            with path.open("rb") as log:
                log.seek(offset)
                chunk = self.rests[path] + log.read()
                self.offsets[path] = log.tell()
            head, _, self.rests[path] = chunk.rpartition(b"\n")
            self.ids.update(int(found) for found in self.LINE.findall(head))
        return self.ids

    def finished(self, world: FakeTelegram) -> bool:
        last = world.last_update_id
        return last == 0 or set(range(100_000_001, last + 1)) <= self.read()


def story_clock(stage: Stage, clock_file: Path) -> None:
    """The deadlines chapter moves the processes' clock through this file (demo/clock.py); they were
    started with FAKE_CLOCK_FILE naming it, and run the deployment's default profile and time zone."""
    policy = Policy(load_registry(), "jiangyuan", "Asia/Shanghai")
    stage.facts["clock"] = FileStoryClock(str(clock_file), stage.sessions, policy)


def _env(**values: str) -> dict[str, str]:
    """The operator's environment: nothing inherited that could change the bot's settings."""
    settings = {"BOT_TOKEN", "TELEGRAM_API_URL", "DATABASE_URL", "REDIS_URL", "ADMIN_IDS", "DEFAULT_TIMEZONE",
                "POLICY_PROFILE", "DEFAULT_LANGUAGE", "LOG_LEVEL", "CATALOG_DIRS", "DELIVERY_CONCURRENCY",
                "DELIVERY_LEASE_SECONDS", "FAKE_CLOCK_FILE", "SCAN_HOUR", "PUBLIC_BASE_URL", "WEB_HOST", "WEB_PORT",
                "WEB_RATE_LIMIT", "WEB_TRUSTED_PROXIES", "WEB_APP_MAX_AGE"}
    env = {key: value for key, value in os.environ.items() if key.upper() not in settings}
    env["WEB_PORT"] = "0"  # no board unless a test asks for one: parallel processes would share the default port
    env.update(values)
    return env


async def _start(folder: Path, env: dict[str, str], *args: str) -> BotProcess:
    out, err = folder / "stdout.log", folder / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:  # files, not pipes: DEBUG logs fill a pipe
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli.main", *args, cwd=folder, env=env, stdout=stdout, stderr=stderr)
    return BotProcess(process, out, err)


async def _stop(bot: BotProcess) -> int:
    """SIGTERM (aiogram stops polling and the app closes), then SIGKILL if it hangs."""
    if bot.process.returncode is None:
        bot.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            bot.process.kill()
            await bot.process.wait()
    return bot.process.returncode or 0


async def _wait_started(world: FakeTelegram, bot: BotProcess) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    # getMe comes after the migrations; the first long poll is recorded only when it returns, and
    # updates queued before it are simply fetched by it, as with Telegram.
    while not world.requests_for("getMe"):
        if bot.process.returncode is not None:
            pytest.fail(f"cunwu run exited with {bot.process.returncode}: {bot.output()[-2000:]}")
        if loop.time() > deadline:
            pytest.fail(f"cunwu run did not start in {START_TIMEOUT:.0f} s: {bot.output()[-2000:]}")
        await asyncio.sleep(0.05)


@pytest.fixture(params=ENGINES)
async def e2e_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cunwu.db'}"
        return
    async with scratch_database("cunwu_e2e") as url:
        yield url


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[Stage, BotProcess]]:
    world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
    clock_file = tmp_path / "clock.txt"  # the deadlines chapter moves the process's clock (demo/clock.py)
    board = f"http://127.0.0.1:{free_port()}"  # the process serves the board (WEB_PORT): the story reads it
    async with FakeBotAPIServer(world) as server:
        env = _env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.base_url, DATABASE_URL=database_url,
                   ADMIN_IDS=str(ADMIN_ID),  # DEBUG (or INFO with E2E_LOG=INFO): HandledLog reads an INFO line
                   LOG_LEVEL="INFO" if os.environ.get("E2E_LOG") == "INFO" else "DEBUG",
                   FAKE_CLOCK_FILE=str(clock_file), PUBLIC_BASE_URL=board, WEB_PORT=board.rsplit(":", 1)[1])
        bot = await _start(tmp_path, env, "run")
        engine = create_engine(database_url)
        try:
            await _wait_started(world, bot)
            log = HandledLog(bot.stderr)
            stage = Stage(world, session_factory(engine), lang="zh", texts=Texts("zh"), settle=0.2,
                          all_handled=lambda: log.finished(world))
            story_clock(stage, clock_file)
            stage.facts["board"] = board
            yield stage, bot
        finally:
            await _stop(bot)
            await engine.dispose()


async def test_onboarding_and_notice_through_the_real_process(tmp_path: Path, e2e_database: str) -> None:
    async with running_bot(tmp_path, e2e_database) as (stage, bot):
        await _play(stage, bot)
        world = stage.world
        staff, resident = stage.people["staff"], stage.people["resident"]
        assert "村务公开人员 · 兴隆村" in "\n".join(stage.texts_in(staff))
        assert "已确认您是 兴隆村 的村民" in "\n".join(stage.texts_in(resident))
        title = stage.facts["title"]
        for key in ("residents1", "residents2", "residents3"):
            posted = [m for m in world.bot_messages(stage.chats[key]) if title in m.text]
            assert len(posted) == 1, f"{key} got the notice {len(posted)} times"
            # Pinned (the keeper may have unpinned it since, when a later chapter's clock passed its posting period).
            pins = {(str(r.params.get("chat_id")), str(r.params.get("message_id")))
                    for r in world.requests if r.ok and r.method.lower() == "pinchatmessage"}
            assert (str(stage.chats[key].id), str(posted[0].message_id)) in pins
            assert "党组织书记 张书记" in posted[0].text and "村务监督委员会成员 刘监委" in posted[0].text
        filing = [m for m in world.bot_messages(stage.chats["filing"]) if title in m.text]
        assert len(filing) == 1 and "【备案】" in filing[0].text
        assert any("发送完成：4/4" in t for t in stage.texts_in(staff))
        menus = {scope: [c["command"] for c in commands] for scope, commands in world.commands.items()}
        for lang in ("", "en"):  # the command menu was registered at start, per language and chat kind
            assert "draft" in menus[('{"type": "all_private_chats"}', lang)]
            assert "bind" in menus[('{"type": "all_group_chats"}', lang)]
            assert "invite" in menus[(f'{{"chat_id": {ADMIN_ID}, "type": "chat"}}', lang)]
        # The deadlines chapter's reminder (the process's own hourly scan may have sent others on the wall clock).
        assert any("公开提醒" in t and "还有 7 天到期" in t for t in stage.texts_in(staff))
    assert bot.process.returncode == 0, bot.output()[-2000:]
    logs = bot.output()
    assert "DEBUG" in logs  # the level really was DEBUG, so request logging had its chance to leak
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs


async def _play(stage: Stage, bot: BotProcess) -> None:
    """The demo's story; each chapter checks what it needs and raises StoryError otherwise."""
    try:
        await play_story(stage)
    except StoryError as error:
        seen = Transcript(stage).render("what people saw", since={})
        pytest.fail(f"{error}\n{seen}\n--- bot log (end) ---\n{bot.output()[-3000:]}")


async def _run_to_exit(folder: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    folder.mkdir()
    bot = await _start(folder, env, "run")
    try:
        code = await asyncio.wait_for(bot.process.wait(), START_TIMEOUT)
    finally:
        await _stop(bot)
    return code, [line for line in bot.stderr.read_text().splitlines() if line.strip()]


async def test_operator_mistakes_stop_run_with_one_line(tmp_path: Path) -> None:
    """Each mistake an operator can make in the environment: one line on stderr naming what to fix, a
    non-zero exit, and neither the token nor a database password in the output. A few processes run at
    once (each spends most of its time importing)."""
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    (tmp_path / "a-file").write_text("not a folder")
    other_bot = FakeTelegram("7777777777:a-different-bot-whose-token-is-not-ours-x")
    ours = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
    taken = socket.socket()  # a port something else already listens on
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    async with FakeBotAPIServer(other_bot) as server, FakeBotAPIServer(ours) as our_server:
        cases: dict[str, tuple[dict[str, str], str]] = {
            "missing": (_env(BOT_TOKEN="", DATABASE_URL=sqlite), "BOT_TOKEN"),
            "placeholder": (_env(BOT_TOKEN="123456:ABC-DEF", DATABASE_URL=sqlite), "BOT_TOKEN"),
            "database": (_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9",
                              DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"),
                         "cannot reach the database"),
            "admin ids": (_env(BOT_TOKEN=TOKEN, DATABASE_URL=sqlite, ADMIN_IDS="12,abc"), "ADMIN_IDS"),
            "log level": (_env(BOT_TOKEN=TOKEN, DATABASE_URL=sqlite, LOG_LEVEL="LOUD"), "LOG_LEVEL"),
            "time zone": (_env(BOT_TOKEN=TOKEN, DATABASE_URL=sqlite, DEFAULT_TIMEZONE="Mars/Base"),
                          "DEFAULT_TIMEZONE"),
            "scheme": (_env(BOT_TOKEN=TOKEN, DATABASE_URL="mysql://root:hunter2@db/cunwu"), "DATABASE_URL"),
            "sqlite folder": (_env(BOT_TOKEN=TOKEN, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/a-file/data/x.db"),
                              "cannot create the folder"),
            "no telegram": (_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9",
                                 DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'y.db'}"), "cannot reach Telegram"),
            "unauthorised": (_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.base_url,
                                  DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'z.db'}"), "401 Unauthorized"),
            "board address": (_env(BOT_TOKEN=TOKEN, DATABASE_URL=sqlite, PUBLIC_BASE_URL="ftp://board.example.org"),
                              "PUBLIC_BASE_URL"),
            "board port taken": (_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=our_server.base_url,
                                      DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
                                      WEB_PORT=str(taken.getsockname()[1])), "cannot serve the board"),
        }
        gate = asyncio.Semaphore(4)

        async def one(name: str, env: dict[str, str]) -> tuple[int, list[str]]:
            async with gate:
                return await _run_to_exit(tmp_path / name.replace(" ", "-"), env)

        results = await asyncio.gather(*(one(name, env) for name, (env, _) in cases.items()))
    taken.close()
    for (name, (_, expected)), (code, lines) in zip(cases.items(), results, strict=True):
        assert code != 0, name
        assert len(lines) == 1 and "Traceback" not in lines[0], (name, lines)
        assert lines[0].startswith("cunwu: ") and expected in lines[0], (name, lines)
        assert TOKEN not in lines[0] and TOKEN.split(":")[1] not in lines[0] and "hunter2" not in lines[0]
    assert not (tmp_path / "x.db").exists()  # a refused setting touches nothing
