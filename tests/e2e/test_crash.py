"""The real `cunwu run` process killed with SIGKILL at the two worst moments, then started again.

1. During the review decision that publishes a notice to 120 groups: the handler has written the
   decision, 121 postings and their outbox rows, and waits for Telegram to acknowledge the tap. After the
   restart the decision is either all there or not there at all, and the reviewer can tap again.
2. During the broadcast: Telegram has accepted the notice in the 60th group but the worker has not yet
   recorded it. After the restart that row is reported uncertain and not sent again; every other group
   gets the notice exactly once; the author's report names the uncertain group.

On SQLite and PostgreSQL, against the fake Bot API server over HTTP, with the database seeded from a
directory file the way a township would import it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.base.settings import Settings
from bot.process.runtime import Runtime, build_runtime
from bot.ui.texts import Texts
from demo.story import Stage
from fake_telegram import FakeBotAPIServer, FakeChat, FakeTelegram
from models import AuditEntry, Notice, OutboxMessage, Posting, ReviewDecision
from models.migrate import upgrade
from tests.conftest import ENGINES
from tests.e2e.test_real_process import START_TIMEOUT, BotProcess, _env, _start
from tests.notice_fixtures import Cast, seed_village
from tests.pg import scratch_database

TOKEN = "5252525252:CRASH-test-token-that-must-never-be-logged-xyz"
GROUPS = 120
HELD = 59  # the group whose sendMessage Telegram accepts but does not answer before the kill
TITLE = "2026年第一季度村级财务收支情况"


class Crashable:
    """`cunwu run` started again after each SIGKILL, in the same folder and on the same database."""

    def __init__(self, folder: Path, world: FakeTelegram, env: dict[str, str]) -> None:
        self.folder, self.world, self.env = folder, world, env
        self.lives: list[BotProcess] = []

    async def start(self) -> None:
        folder = self.folder / f"life{len(self.lives) + 1}"
        folder.mkdir()
        before = len(self.world.requests_for("getMe"))
        self.lives.append(await _start(folder, self.env, "run"))
        await _until(lambda: len(self.world.requests_for("getMe")) > before, START_TIMEOUT, "the bot to start",
                     self.lives[-1])

    async def kill(self) -> None:
        process = self.lives[-1].process
        process.kill()  # SIGKILL: no cleanup, no commit, connections cut
        await process.wait()

    async def stop(self) -> None:
        process = self.lives[-1].process if self.lives else None
        if process is not None and process.returncode is None:
            process.terminate()
            await process.wait()

    def output(self) -> str:
        return "\n".join(life.output() for life in self.lives)


async def _until(condition: Callable[[], bool], limit: float, what: str, bot: BotProcess | None = None) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}" + (f": {bot.output()[-2000:]}" if bot else ""))
        await asyncio.sleep(0.01)


@pytest.fixture(params=ENGINES)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cunwu.db'}"
        return
    async with scratch_database("cunwu_crash") as url:
        yield url


@pytest.fixture
async def world_and_bot(tmp_path: Path, database: str) -> AsyncIterator[tuple[FakeTelegram, Crashable, Runtime]]:
    world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
    await asyncio.to_thread(upgrade, database)
    runtime = build_runtime(Settings(_env_file=None, bot_token=TOKEN, database_url=database,
                                     redis_url=None))
    async with FakeBotAPIServer(world, hold_seconds=120) as server:
        env = _env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.base_url, DATABASE_URL=database, LOG_LEVEL="INFO",
                   DELIVERY_LEASE_SECONDS="10")  # PostgreSQL: the killed worker's claims lapse after 10 s
        bot = Crashable(tmp_path, world, env)
        try:
            yield world, bot, runtime
        finally:
            await bot.stop()
            await runtime.close()
    assert TOKEN.split(":")[1] not in bot.output()


def copies(world: FakeTelegram, chat: FakeChat) -> int:
    return sum(1 for m in world.bot_messages(chat) if TITLE in m.text)


async def test_sigkill_during_the_publishing_decision_and_during_the_broadcast(world_and_bot) -> None:
    world, bot, runtime = world_and_bot
    cast = await seed_village(runtime, world, groups=GROUPS)
    stage = Stage(world, runtime.sessions, lang="zh", texts=Texts("zh"), settle=0.3, timeout=60)
    await bot.start()
    people = [cast.staff, cast.secretary, cast.supervisor, cast.supervisor2, cast.inspector, cast.resident]
    await _until(lambda: all(world.bot_messages(world.private_chat(p)) for p in people), 60, "the /start answers")
    await stage.quiet()
    await _draft_and_first_approval(stage, cast)

    # 1. The last reviewer approves; the process dies while the decision's transaction is still open.
    world.fail_next("answerCallbackQuery", kind="timeout_after")
    answers = len(world.requests_for("answerCallbackQuery"))
    _tap(world, cast, "同意")
    await _until(lambda: len(world.requests_for("answerCallbackQuery")) > answers, 30, "the tap to be handled")
    await bot.kill()
    applied = await _decision_all_or_nothing(runtime)
    assert not any(copies(world, g) for g in cast.groups)

    # 2. Started again; the reviewer taps again (the button is still there) unless the decision stood.
    world.fail_next("sendMessage", chat_id=cast.groups[HELD].id, kind="timeout_after")
    await bot.start()
    if not applied:
        _tap(world, cast, "同意")
    held = cast.groups[HELD].id
    await _until(lambda: any(r.method == "sendMessage" and str(r.params.get("chat_id")) == str(held)
                             for r in world.requests), 90, "the broadcast to reach the held group")
    await bot.kill()
    assert copies(world, cast.groups[HELD]) == 1  # Telegram has it; the database says "sending"
    sent_before = sum(copies(world, g) for g in cast.groups)
    assert HELD < sent_before < GROUPS

    # 3. Started again: the in-flight row becomes uncertain, the rest goes out once.
    await bot.start()
    await stage.quiet()
    await _assert_published_once(world, runtime, cast)


async def _draft_and_first_approval(stage: Stage, cast: Cast) -> None:
    staff = cast.staff
    await stage.send(staff, "/draft")
    await stage.tap(staff, data="dc1:*:cw")
    await stage.tap(staff, data="di1:*:cw.1")
    await stage.tap(staff, data="dq1:*")  # the period now due, whatever today is
    await stage.send(staff, TITLE)
    await stage.send(staff, "本季度收入12万元，支出8万元，明细见下表。")
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(cast.secretary, stage.ui("btn.approve"))
    assert "请审核" in stage.last(cast.supervisor)


def _tap(world: FakeTelegram, cast: Cast, label: str) -> None:
    chat = world.private_chat(cast.supervisor)
    for message in reversed(world.bot_messages(chat)):
        for row in message.data.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if label in button["text"]:
                    world.user_taps(cast.supervisor, chat, message.message_id, button["callback_data"])
                    return
    raise AssertionError(f"no {label!r} button for the supervisor")


async def _count(runtime: Runtime, model, *where) -> int:
    async with runtime.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


async def _decision_all_or_nothing(runtime: Runtime) -> bool:
    """True when the publishing decision is wholly in the database, False when none of it is."""
    async with runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    facts = {
        "published": notice.state == "published",
        "decided": await _count(runtime, ReviewDecision) == 2,
        "audited": await _count(runtime, AuditEntry, AuditEntry.action == "publish") == 1,
        "postings": await _count(runtime, Posting) == GROUPS + 1,
        "queued": await _count(runtime, OutboxMessage, OutboxMessage.action == "post") == GROUPS + 1,
    }
    assert len(set(facts.values())) == 1, f"half a decision: {facts}"
    if not facts["published"]:  # nothing of it: the notice waits for the same reviewer at the same stage
        assert notice.state == "in_review" and notice.stage == 1
        assert await _count(runtime, ReviewDecision) == 1 and await _count(runtime, Posting) == 0
    return facts["published"]


async def _assert_published_once(world: FakeTelegram, runtime: Runtime, cast: Cast) -> None:
    async with runtime.sessions() as session:
        rows = list(await session.exec(select(OutboxMessage).where(OutboxMessage.action == "post")))
        postings = Counter(p.state for p in await session.exec(select(Posting)))
        unfinished = await session.exec(select(func.count()).select_from(OutboxMessage).where(
            col(OutboxMessage.status).in_(["pending", "sending"])))
        notice = (await session.exec(select(Notice))).one()
    uncertain = [row.chat_id for row in rows if row.status == "uncertain"]
    assert uncertain == [cast.groups[HELD].id]  # one in flight when killed (DELIVERY_CONCURRENCY=1)
    assert Counter(row.status for row in rows) == {"sent": GROUPS, "uncertain": 1}
    assert unfinished.one() == 0
    assert postings == {"posted": GROUPS, "uncertain": 1}
    assert [copies(world, g) for g in cast.groups] == [1] * GROUPS  # the uncertain one was not resent
    assert copies(world, cast.filing) == 1
    assert notice.state == "published"
    assert await _count(runtime, ReviewDecision) == 2
    assert await _count(runtime, AuditEntry, AuditEntry.action == "publish") == 1
    done, held = f"发送完成：{GROUPS}/{GROUPS + 1}", f"兴隆村村民群{HELD + 1}"

    def report() -> list[str]:
        return [m.text for m in world.bot_messages(world.private_chat(cast.staff))]

    # The author's last edit ("done") takes its turn in a private chat's one message a second, so it may come
    # a moment after the groups' rows are all final and the story looked quiet.
    await _until(lambda: any(done in t for t in report()), 30, "the author's final report")
    assert any(done in t and "不确定是否送达" in t and held in t for t in report()), report()[-2:]
