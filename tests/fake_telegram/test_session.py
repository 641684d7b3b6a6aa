"""A real aiogram Bot talking to the fake world in-process: results and aiogram's own exceptions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message

from fake_telegram import FakeSession, FakeTelegram, FakeUser

TOKEN = "7000000001:FAKE-token-for-tests"


@pytest.fixture
def world() -> FakeTelegram:
    return FakeTelegram(TOKEN)


@pytest.fixture
async def bot(world: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=FakeSession(world), default=DefaultBotProperties(parse_mode="HTML"))
    yield bot
    await bot.session.close()


@pytest.fixture
def villager(world: FakeTelegram) -> FakeUser:
    user = world.new_user("张三", username="zhangsan")
    world.user_sends(user, world.private_chat(user), "/start")
    return user


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=d.upper(), callback_data=d) for d in data]])


async def test_send_message_returns_message_and_records_plain_text(
    bot: Bot, world: FakeTelegram, villager: FakeUser
) -> None:
    sent = await bot.send_message(villager.id, "<b>村务</b> 公开 &amp; 透明", reply_markup=keyboard("yes"))
    assert isinstance(sent, Message)
    assert sent.text == "村务 公开 & 透明"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    stored = world.last_message(villager.id)
    assert stored is not None and stored.html == "<b>村务</b> 公开 &amp; 透明"
    assert stored.buttons == ["YES"]
    assert world.sends_per_chat[villager.id] == 1


async def test_validation_errors_are_telegram_bad_requests(bot: Bot, villager: FakeUser) -> None:
    with pytest.raises(TelegramBadRequest, match='can\'t parse entities: Unsupported start tag "br"'):
        await bot.send_message(villager.id, "a<br>b")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(villager.id, "<b> </b>")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(villager.id, "字" * 4097)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(villager.id, "x", reply_markup=keyboard("d" * 65))
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(123, "x")


async def test_injected_429_raises_retry_after(bot: Bot, world: FakeTelegram, villager: FakeUser) -> None:
    world.fail_next("sendMessage", kind="429", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(villager.id, "x")
    assert caught.value.retry_after == 7
    assert world.count_429 == 1
    assert (await bot.send_message(villager.id, "again")).text == "again"


async def test_blocked_user_and_kicked_group_are_forbidden(bot: Bot, world: FakeTelegram, villager: FakeUser) -> None:
    world.user_blocks_bot(villager)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(villager.id, "x")
    group = world.new_group("一组", [villager])
    world.add_bot_to_group(group)
    world.remove_bot_from_group(group)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "x")


async def test_migrated_group_raises_migrate_with_new_id(bot: Bot, world: FakeTelegram, villager: FakeUser) -> None:
    group = world.new_group("二组", [villager])
    world.add_bot_to_group(group)
    supergroup = world.migrate_group(group)
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(group.id, "x")
    assert caught.value.migrate_to_chat_id == supergroup.id
    assert str(supergroup.id).startswith("-100")
    assert (await bot.send_message(supergroup.id, "ok")).chat.type == "supergroup"


async def test_injected_migrate_fault_creates_the_supergroup(bot: Bot, world: FakeTelegram, villager: FakeUser) -> None:
    group = world.new_group("三组", [villager])
    world.add_bot_to_group(group)
    world.fail_next("sendMessage", chat_id=group.id, kind="migrate")
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(group.id, "x")
    assert world.chats[caught.value.migrate_to_chat_id].type == "supergroup"


async def test_timeouts_raise_network_error_and_after_still_delivers(
    bot: Bot, world: FakeTelegram, villager: FakeUser
) -> None:
    world.fail_next("sendMessage", kind="timeout_before")
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.send_message(villager.id, "lost")
    world.fail_next("sendMessage", kind="timeout_after")
    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.send_message(villager.id, "delivered")
    assert [m.text for m in world.bot_messages(villager.id)] == ["delivered"]


async def test_edit_delete_and_pin_rules(bot: Bot, world: FakeTelegram, villager: FakeUser) -> None:
    group = world.new_group("四组", [villager])
    world.add_bot_to_group(group, admin=True, can_pin=False)
    sent = await bot.send_message(group.id, "名单", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("名单", chat_id=group.id, message_id=sent.message_id, reply_markup=keyboard("a"))
    edited = await bot.edit_message_text("新名单", chat_id=group.id, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard, as in Telegram
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage pinned messages"):
        await bot.pin_chat_message(group.id, sent.message_id)
    world.add_bot_to_group(group, admin=True, can_pin=True)
    assert await bot.pin_chat_message(group.id, sent.message_id)
    assert (await bot.get_chat(group.id)).pinned_message.text == "新名单"  # type: ignore[union-attr]
    assert await bot.delete_message(group.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=group.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(group.id, sent.message_id)
    assert world.pinned(group) == []


async def test_callback_tap_carries_the_real_message(bot: Bot, world: FakeTelegram, villager: FakeUser) -> None:
    sent = await bot.send_message(villager.id, "确认?", reply_markup=keyboard("yes", "no"))
    world.take_updates()
    with pytest.raises(ValueError, match="no button"):
        world.user_taps(villager, villager.id, sent.message_id, "maybe")
    query_id = world.user_taps(villager, villager.id, sent.message_id, "yes")
    [update] = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "yes"
    assert update.callback_query.message.message_id == sent.message_id  # type: ignore[union-attr]
    assert await bot.answer_callback_query(query_id, text="好的")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


async def test_files_commands_and_transcript(bot: Bot, world: FakeTelegram, villager: FakeUser) -> None:
    photo = await bot.send_photo(villager.id, BufferedInputFile(b"jpeg", "a.jpg"), caption="<i>照片</i>")
    again = await bot.send_photo(villager.id, photo.photo[-1].file_id)  # type: ignore[index]
    assert again.photo[-1].file_id == photo.photo[-1].file_id  # type: ignore[index]
    file = await bot.get_file(photo.photo[-1].file_id)  # type: ignore[index]
    assert (await bot.download(file)).read() == b"jpeg"  # type: ignore[union-attr]
    await bot.set_my_commands([{"command": "start", "description": "开始"}])  # type: ignore[list-item]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    lines = world.transcript()
    assert lines[1].chat == "张三" and lines[1].text == "照片" and "photo" in lines[1].marks


async def test_enum_parse_mode_is_sent_as_its_value(bot: Bot, villager: FakeUser) -> None:
    sent = await bot.send_message(villager.id, "<i>斜体</i>", parse_mode=ParseMode.HTML)
    assert sent.text == "斜体" and sent.entities is not None
