"""The HTTP transport with aiogram's stock AiohttpSession, a real Dispatcher, and webhook delivery."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.filters import CommandStart
from aiogram.types import BufferedInputFile, Message
from aiohttp import web

from fake_telegram import FakeBotAPIServer, FakeTelegram, FakeUser

TOKEN = "7000000001:FAKE-token-for-tests"


@pytest.fixture
def world() -> FakeTelegram:
    return FakeTelegram(TOKEN)


@pytest.fixture
async def server(world: FakeTelegram) -> AsyncIterator[FakeBotAPIServer]:
    server = FakeBotAPIServer(world, hold_seconds=2, webhook_retry_delay=0.05)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def make_bot(server: FakeBotAPIServer) -> AsyncIterator[Callable[..., Bot]]:
    bots: list[Bot] = []

    def make(token: str = TOKEN, timeout: float = 10) -> Bot:
        session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url), timeout=timeout)
        bots.append(Bot(token, session=session))
        return bots[-1]

    yield make
    for bot in bots:
        await bot.session.close()


@pytest.fixture
def villager(world: FakeTelegram) -> FakeUser:
    user = world.new_user("李四")
    world.user_sends(user, world.private_chat(user), "/start")
    return user


async def eventually(check: Callable[[], bool], seconds: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_send_message_and_multipart_photo(
    make_bot: Callable[..., Bot], world: FakeTelegram, villager: FakeUser
) -> None:
    bot = make_bot()
    sent = await bot.send_message(villager.id, "<b>通知</b>", parse_mode="HTML")
    assert sent.text == "通知" and sent.entities is not None
    photo = await bot.send_photo(villager.id, BufferedInputFile(b"\x89PNG-bytes", "notice.png"), caption="公告栏")
    assert photo.caption == "公告栏"
    record = world.files[photo.photo[-1].file_id]  # type: ignore[index]
    assert record.content == b"\x89PNG-bytes"
    file = await bot.get_file(record.file_id)
    assert (await bot.download(file)).read() == b"\x89PNG-bytes"  # type: ignore[union-attr]


async def test_wrong_token_is_unauthorized(make_bot: Callable[..., Bot]) -> None:
    with pytest.raises(TelegramUnauthorizedError):
        await make_bot("1:wrong").get_me()


async def test_long_polling_get_updates(make_bot: Callable[..., Bot], world: FakeTelegram) -> None:
    bot = make_bot()
    user = world.new_user("王五")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    world.user_opens_deep_link(user, "vote_7")
    [update] = await asyncio.wait_for(poll, 2)
    assert update.message is not None and update.message.text == "/start vote_7"


async def test_timeout_after_delivers_but_client_times_out(
    make_bot: Callable[..., Bot], world: FakeTelegram, villager: FakeUser
) -> None:
    bot = make_bot(timeout=0.3)
    world.fail_next("sendMessage", kind="timeout_after")
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.send_message(villager.id, "到了吗")
    assert [m.text for m in world.bot_messages(villager.id)] == ["到了吗"]


async def test_dispatcher_polling_answers_start(
    make_bot: Callable[..., Bot], world: FakeTelegram, villager: FakeUser
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def greet(message: Message) -> None:
        await message.answer("欢迎使用村务公开")

    bot = make_bot()
    polling = asyncio.create_task(dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False))
    await eventually(lambda: bool(world.bot_messages(villager.id)))
    await dispatcher.stop_polling()
    await asyncio.wait_for(polling, 5)
    assert world.visible_text(villager.id) == "/start\n欢迎使用村务公开"


async def test_webhook_is_resent_until_2xx_and_answer_method_runs(
    make_bot: Callable[..., Bot], world: FakeTelegram, villager: FakeUser
) -> None:
    seen: list[tuple[str | None, int]] = []

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        seen.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update["update_id"]))
        if len(seen) < 3:
            return web.Response(status=500)
        chat_id = update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "收到"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        world.take_updates()
        await make_bot().set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", secret_token="s3cret")
        world.user_sends(villager, villager.id, "报名")
        await eventually(lambda: bool(world.bot_messages(villager.id)))
    finally:
        await runner.cleanup()
    assert len(seen) == 3 and len({update_id for _, update_id in seen}) == 1
    assert {secret for secret, _ in seen} == {"s3cret"}
    assert world.pending_updates() == []
    assert world.last_message(villager.id).text == "收到"  # type: ignore[union-attr]


async def test_webhook_delivers_several_updates_at_once_and_resends_a_failed_one(
    make_bot: Callable[..., Bot], world: FakeTelegram, server: FakeBotAPIServer
) -> None:
    """Like Telegram with max_connections: updates in flight together; one answered 500 comes again."""
    in_flight, most, seen = 0, 0, []
    first_failed: set[int] = set()

    async def hook(request: web.Request) -> web.Response:
        nonlocal in_flight, most
        update_id = (await request.json())["update_id"]
        seen.append(update_id)
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.2)  # long enough for the others to arrive meanwhile
        in_flight -= 1
        if update_id % 2 == 0 and update_id not in first_failed:
            first_failed.add(update_id)
            return web.Response(status=500)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    people = [world.new_user(f"村民{i}") for i in range(6)]
    try:
        world.take_updates()
        await make_bot().set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", max_connections=4)
        for person in people:
            world.user_sends(person, person.id, "你好")
        await eventually(lambda: not world.pending_updates() and not server.webhook_in_flight, 10)
    finally:
        await runner.cleanup()
    assert most == 4  # several at once, never more than max_connections
    assert len(seen) == 6 + len(first_failed) and first_failed
    failed = [a.update_id for a in server.webhook_attempts if not a.ok]
    assert sorted(failed) == sorted(first_failed) and all(a.error == "500 Internal Server Error"
                                                           for a in server.webhook_attempts if not a.ok)
