"""Broadcast rate limits as token buckets on an injected clock."""

from __future__ import annotations

from fake_telegram import FakeTelegram, FakeUser

TOKEN = "7000000001:FAKE-token-for-tests"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def started_users(world: FakeTelegram, count: int) -> list[FakeUser]:
    users = [world.new_user(f"村民{n}") for n in range(count)]
    for user in users:
        world.user_sends(user, world.private_chat(user), "/start")
    return users


async def send(world: FakeTelegram, chat_id: int, text: str = "通知") -> tuple[int, dict]:
    reply = await world.call(TOKEN, "sendMessage", {"chat_id": str(chat_id), "text": text, "parse_mode": "HTML"})
    return reply.status, reply.body


async def test_31st_message_in_one_second_is_429() -> None:
    clock = Clock()
    world = FakeTelegram(TOKEN, enforce_limits=True, time_fn=clock)
    users = started_users(world, 31)
    statuses = [(await send(world, user.id))[0] for user in users]
    assert statuses == [200] * 30 + [429]
    _, body = await send(world, users[0].id)
    assert body["parameters"] == {"retry_after": 1}
    assert body["description"] == "Too Many Requests: retry after 1"
    assert world.count_429 == 2
    clock.now += 1.0
    assert (await send(world, users[30].id))[0] == 200


async def test_21st_group_message_in_a_minute_is_429() -> None:
    clock = Clock()
    world = FakeTelegram(TOKEN, enforce_limits=True, time_fn=clock)
    group = world.new_group("村委会")
    world.add_bot_to_group(group)
    assert [(await send(world, group.id))[0] for _ in range(20)] == [200] * 20
    clock.now += 1.0  # the global bucket is full again; the group's refills one token per 3 s
    status, body = await send(world, group.id)
    assert status == 429
    assert body["parameters"]["retry_after"] == 2
    clock.now += 2.0
    assert (await send(world, group.id))[0] == 200
    assert (await send(world, group.id))[0] == 429


async def test_private_chat_allows_a_burst_of_three_then_one_per_second() -> None:
    clock = Clock()
    world = FakeTelegram(TOKEN, enforce_limits=True, time_fn=clock)
    [user] = started_users(world, 1)
    assert [(await send(world, user.id))[0] for _ in range(4)] == [200, 200, 200, 429]
    clock.now += 1.0
    assert (await send(world, user.id))[0] == 200


async def test_limits_off_by_default_and_invalid_requests_spend_nothing() -> None:
    clock = Clock()
    world = FakeTelegram(TOKEN, time_fn=clock)
    [user] = started_users(world, 1)
    assert all([(await send(world, user.id))[0] == 200 for _ in range(50)])
    strict = FakeTelegram(TOKEN, enforce_limits=True, time_fn=clock)
    [user] = started_users(strict, 1)
    assert [(await send(strict, user.id, "<x>"))[0] for _ in range(5)] == [400] * 5
    assert (await send(strict, user.id))[0] == 200


async def test_pins_unpins_and_edits_spend_the_group_limit_too() -> None:
    clock = Clock()
    world = FakeTelegram(TOKEN, enforce_limits=True, time_fn=clock)
    group = world.new_group("村委会")
    world.add_bot_to_group(group, admin=True, can_pin=True)
    sends, statuses = [], []
    for _ in range(5):  # 5 x (send, pin, edit, unpin) = 20 requests: the group's whole minute
        status, body = await send(world, group.id)
        message = {"chat_id": str(group.id), "message_id": str(body["result"]["message_id"])}
        for method, extra in (("pinChatMessage", {}), ("editMessageText", {"text": "改"}), ("unpinChatMessage", {})):
            clock.now += 0.1  # the bot's own bucket is never the limit here
            reply = await world.call(TOKEN, method, {**message, **extra})
            statuses.append(reply.status)
        sends.append(status)
    assert sends == [200] * 5 and statuses == [200] * 15
    clock.now += 1.0
    reply = await world.call(TOKEN, "pinChatMessage", message)
    assert reply.status == 429 and world.count_429 == 1
    unchanged = await world.call(TOKEN, "editMessageText", {**message, "text": "改"})
    assert unchanged.status == 400  # a refused edit (not modified) spends nothing: still 400, not 429
