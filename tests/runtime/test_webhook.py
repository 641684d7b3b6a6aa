"""`cunwu webhook`'s HTTP surface, in-process: the production web app (bot.process.webhook.make_web_app) on a
local port, the production Dispatcher behind it, the fake Telegram answering the bot. Updates are
POSTed the way Telegram posts them, with its secret-token header."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import select

from bot.delivery.worker import DeliveryWorker
from bot.pipeline.fsm_redis import CommitBoundRedisStorage
from bot.process.app import BotApp
from bot.process.runtime import Runtime
from bot.process.webhook import make_web_app
from bot.process.wiring import build_bot
from fake_telegram import FakeSession, FakeTelegram, FakeUser
from fake_telegram.balancer import free_port
from models import Invite, NagLog, ProcessedUpdate, Village
from services.outbox import queue
from services.people import directory
from tests.conftest import ADMIN_ID
from tests.harness import UNLIMITED

SECRET = "test-webhook-secret-0123456789"


@dataclass
class Hook:
    world: FakeTelegram
    app: BotApp
    base: str
    http: aiohttp.ClientSession

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> int:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self.http.post(f"{self.base}/telegram", json=update, headers=headers) as answer:
            return answer.status

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(f"{self.base}{path}") as answer:
            return answer.status, await answer.text()

    def update(self, user: FakeUser, text: str) -> dict[str, Any]:
        self.world.user_sends(user, self.world.private_chat(user), text)
        (raw,) = self.world.take_updates()
        return raw

    def replies(self, user: FakeUser, marker: str) -> int:
        return sum(marker in m.text for m in self.world.bot_messages(self.world.private_chat(user)))


async def serve(runtime: Runtime, world: FakeTelegram) -> AsyncIterator[Hook]:
    runtime.bot_username = world.bot.username or "cunwu_bot"
    app = BotApp(runtime, build_bot(runtime, session=FakeSession(world)), confirm_after_handling=True)
    runner = web.AppRunner(make_web_app(app, SECRET, "/telegram"))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as http:
        yield Hook(world, app, f"http://127.0.0.1:{port}", http)
    await runner.cleanup()
    await app.dispatcher.storage.close()
    await app.bot.session.close()


@pytest.fixture
async def hook(runtime: Runtime, world: FakeTelegram) -> AsyncIterator[Hook]:
    async for served in serve(runtime, world):
        yield served


@pytest.fixture
def admin(world: FakeTelegram) -> FakeUser:
    return world.new_user("管理员", user_id=ADMIN_ID)


async def count(runtime: Runtime, model: Any) -> int:
    async with runtime.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_a_missing_or_wrong_secret_token_is_refused_with_401(hook: Hook, admin: FakeUser) -> None:
    update = hook.update(admin, "/newvillage t1 v1 一村")
    assert await hook.post(update, secret=None) == 401
    assert await hook.post(update, secret="not-the-secret-0123456789") == 401
    assert await hook.post(update, secret="") == 401
    assert await count(hook.app.runtime, Village) == 0 and not hook.world.bot_messages(hook.world.private_chat(admin))
    assert await hook.post(update) == 200  # Telegram's own delivery, with the secret, still works
    assert await count(hook.app.runtime, Village) == 1


async def test_a_failing_handler_answers_500_and_the_resend_has_one_effect(
        hook: Hook, admin: FakeUser, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A handler that fails before it told anybody anything (so nothing was committed) is not confirmed."""
    update = hook.update(admin, "/newvillage t1 v1 一村")
    create_village = directory.create_village

    async def fails_once(*args: Any, **kwargs: Any) -> Village:
        monkeypatch.setattr(directory, "create_village", create_village)  # the next delivery works
        await create_village(*args, **kwargs)  # the village is added in the update's transaction ...
        raise ConnectionResetError("the database went away")  # ... and then the handler fails

    monkeypatch.setattr(directory, "create_village", fails_once)
    with caplog.at_level(logging.INFO):
        assert await hook.post(update) == 500  # not confirmed: Telegram sends it again
    assert f"update {update['update_id']} failed" in caplog.text  # logged with its update id
    assert await count(hook.app.runtime, Village) == 0  # rolled back
    assert await count(hook.app.runtime, ProcessedUpdate) == 0  # so the resend is not skipped
    assert await hook.post(update) == 200
    assert await count(hook.app.runtime, Village) == 1
    assert hook.replies(admin, "✅ 已创建") == 1
    assert "Traceback" not in "".join(m.text for m in hook.world.bot_messages(hook.world.private_chat(admin)))


async def test_a_duplicate_update_id_has_one_effect(hook: Hook, admin: FakeUser) -> None:
    update = hook.update(admin, "/newvillage t1 v1 一村")
    assert await asyncio.gather(hook.post(update), hook.post(update)) == [200, 200]  # at once
    assert await hook.post(update) == 200  # and again later
    assert await count(hook.app.runtime, Village) == 1
    assert hook.replies(admin, "✅ 已创建") == 1
    assert await count(hook.app.runtime, ProcessedUpdate) == 1


async def test_a_refused_action_is_answered_once_however_often_it_comes(hook: Hook, admin: FakeUser) -> None:
    update = hook.update(admin, "/invite nowhere")  # a village code that does not exist: a domain error
    assert [await hook.post(update) for _ in range(3)] == [200, 200, 200]
    texts = [m.text for m in hook.world.bot_messages(hook.world.private_chat(admin))]
    assert len(texts) == 1 and "Traceback" not in texts[0]


async def test_healthz_reports_database_redis_outbox_and_the_leaders_work(hook: Hook) -> None:
    runtime = hook.app.runtime
    async with runtime.sessions() as session:
        for chat_id in (1, 2, 3):
            queue(session, chat_id, "join_approved", {"village": "一村"})
        await session.commit()
    status, body = await hook.get("/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["database"] == "ok" and health["redis"] == "not configured"
    assert health["outbox"] == {"pending": 3, "sending": 0, "sent": 0, "failed": 0, "uncertain": 0}
    assert (health["leader"], health["delivery"], health["scheduler"]) == (False, "standby", "standby")


async def test_healthz_is_503_when_redis_is_unreachable(runtime: Runtime, world: FakeTelegram) -> None:
    runtime.settings.redis_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    async for served in serve(runtime, world):
        status, body = await served.get("/healthz")
        assert status == 503
        health = json.loads(body)
        assert health["database"] == "ok" and health["redis"] not in ("ok", "not configured")


async def test_healthz_with_redis(runtime: Runtime, world: FakeTelegram) -> None:
    import redis.asyncio as redis

    url = "redis://127.0.0.1:6379/0"
    try:
        await redis.from_url(url).ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    runtime.settings.redis_url = url
    async for served in serve(runtime, world):
        status, body = await served.get("/healthz")
        assert status == 200 and json.loads(body)["redis"] == "ok"


async def test_metrics_count_updates_errors_outbox_429s_and_nags(
        hook: Hook, admin: FakeUser, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, world = hook.app.runtime, hook.world
    villager = world.new_user("村民")
    hook.update(villager, "/start")  # a person the bot may write to, who never reaches the bot here
    for number in range(3):
        assert await hook.post(hook.update(admin, f"/newvillage t1 v{number} 村{number}")) == 200

    async def broken(*args: Any, **kwargs: Any) -> Village:
        raise ConnectionResetError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(directory, "create_village", broken)
        assert await hook.post(hook.update(admin, "/newvillage t1 v9 九村")) == 500
    async with runtime.sessions() as session:
        village = (await session.exec(select(Village))).first()
        assert village is not None
        session.add(NagLog(village_id=village.id or 0, obligation_key="jyv:cw.1@2026Q1", kind="due",
                           day=date(2026, 4, 10)))
        for chat_id in (admin.id, villager.id):
            queue(session, chat_id, "join_approved", {"village": "一村"})
        await session.commit()
    world.fail_next("sendMessage", chat_id=admin.id, kind="429", retry_after=60)  # the worker is told to wait
    await DeliveryWorker(runtime, hook.app.bot, UNLIMITED).run_until_idle()
    status, body = await hook.get("/metrics")
    assert status == 200
    figures = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(body) for s in family.samples}
    assert figures[("cunwu_updates_handled_total", ())] == 3
    assert figures[("cunwu_handler_errors_total", ())] == 1
    assert figures[("cunwu_telegram_429_total", ())] == 1
    assert figures[("cunwu_nags_sent_total", ())] == 1
    outbox = {dict(labels)["status"]: value for (name, labels), value in figures.items() if name == "cunwu_outbox_rows"}
    assert outbox == {"pending": 1, "sending": 0, "sent": 1, "failed": 0, "uncertain": 0}


async def test_a_resent_update_finds_the_conversation_where_the_failed_attempt_found_it(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis conversation state is written when the update commits (bot/pipeline/fsm_redis.py): the role tap
    fails after the handler cleared the state (before it told anybody), Telegram resends it, and it is
    still a role tap."""
    import redis.asyncio as redis

    url = "redis://127.0.0.1:6379/0"
    try:
        await redis.from_url(url).ping()
    except Exception:
        pytest.skip("no Redis on 127.0.0.1:6379")
    bot_id = random.randint(1_000_000_000, 1_999_999_999)  # Redis keys fsm:<bot id>:... of this test only
    token = f"{bot_id}:FSM-test-token-that-is-long-enough-to-look-real"
    runtime.settings.bot_token, runtime.settings.redis_url = SecretStr(token), url
    world = FakeTelegram(token, bot_id=bot_id)
    admin = world.new_user("管理员", user_id=ADMIN_ID)
    async for served in serve(runtime, world):
        assert await served.post(served.update(admin, "/newvillage t1 v1 一村")) == 200
        assert await served.post(served.update(admin, "/invite v1")) == 200  # state: which role?
        chat = world.private_chat(admin)
        question = world.bot_messages(chat)[-1]
        data = next(b["callback_data"] for row in question.data["reply_markup"]["inline_keyboard"] for b in row
                    if b["text"] == "村务公开人员")
        world.user_taps(admin, chat, question.message_id, data)
        (tap,) = world.take_updates()
        def fails_once(payload: str, deep_link: Any = runtime.deep_link) -> str:  # after state.clear(), before
            monkeypatch.setattr(runtime, "deep_link", deep_link)  # the link is sent; the next attempt works
            raise ConnectionResetError("the database went away")

        monkeypatch.setattr(runtime, "deep_link", fails_once)
        assert await served.post(tap) == 500
        assert await served.post(tap) == 200
        assert served.replies(admin, "🔗") == 1
        assert await count(runtime, Invite) == 1
        state = served.app.dispatcher.fsm.get_context(served.app.bot, admin.id, admin.id)
        assert await state.get_state() is None  # the conversation ended with the successful attempt
        storage = served.app.dispatcher.storage
        assert isinstance(storage, CommitBoundRedisStorage)
        keys = [key async for key in storage.redis.scan_iter(match=f"fsm:{bot_id}:*")]
        if keys:
            await storage.redis.delete(*keys)
