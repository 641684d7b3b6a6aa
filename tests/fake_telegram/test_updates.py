"""getUpdates queue semantics: offsets, limit, long polling, allowed_updates, webhook conflict."""

from __future__ import annotations

import asyncio
import time

from fake_telegram import FakeTelegram

TOKEN = "7000000001:FAKE-token-for-tests"


async def get_updates(world: FakeTelegram, **params: object) -> list[dict]:
    reply = await world.call(TOKEN, "getUpdates", {key: str(value) for key, value in params.items()})
    assert reply.ok, reply.body
    return reply.body["result"]


async def test_offset_confirms_lower_ids_and_limit_caps() -> None:
    world = FakeTelegram(TOKEN)
    user = world.new_user()
    for text in ("/start", "一", "二"):
        world.user_sends(user, world.private_chat(user), text)
    first = await get_updates(world, limit=2)
    assert [u["message"]["text"] for u in first] == ["/start", "一"]
    assert first[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert first[1]["update_id"] == first[0]["update_id"] + 1
    rest = await get_updates(world, offset=first[-1]["update_id"] + 1)
    assert [u["message"]["text"] for u in rest] == ["二"]
    assert await get_updates(world, offset=rest[-1]["update_id"] + 1) == []


async def test_long_poll_wakes_on_new_update() -> None:
    world = FakeTelegram(TOKEN)
    user = world.new_user()
    started = time.monotonic()
    poll = asyncio.create_task(get_updates(world, timeout=5))
    await asyncio.sleep(0.05)
    world.user_opens_deep_link(user, "notice_42")
    [update] = await asyncio.wait_for(poll, 1)
    assert update["message"]["text"] == "/start notice_42"
    assert time.monotonic() - started < 1


async def test_long_poll_timeout_returns_empty_list() -> None:
    world = FakeTelegram(TOKEN)
    started = time.monotonic()
    assert await get_updates(world, timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_allowed_updates_filters_new_updates() -> None:
    world = FakeTelegram(TOKEN)
    group = world.new_group("村委会")
    await get_updates(world, allowed_updates='["message"]')
    world.add_bot_to_group(group)  # my_chat_member is not wanted now
    world.user_sends(group.members[0], group, "大家好")
    assert [next(k for k in u if k != "update_id") for u in world.pending_updates()] == ["message"]


async def test_webhook_blocks_get_updates_with_409() -> None:
    world = FakeTelegram(TOKEN)
    await world.call(TOKEN, "setWebhook", {"url": "http://127.0.0.1:9/hook", "secret_token": "s3cret"})
    reply = await world.call(TOKEN, "getUpdates", {})
    assert reply.status == 409 and reply.body["description"].startswith("Conflict: can't use getUpdates")
    info = await world.call(TOKEN, "getWebhookInfo", {})
    assert info.body["result"]["url"] == "http://127.0.0.1:9/hook"
    await world.call(TOKEN, "deleteWebhook", {"drop_pending_updates": "true"})
    assert (await world.call(TOKEN, "getUpdates", {})).ok


async def test_wrong_token_and_unknown_method() -> None:
    world = FakeTelegram(TOKEN)
    assert (await world.call("1:bad", "getMe", {})).body == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    assert (await world.call(TOKEN, "sendRocket", {})).body == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found",
    }
