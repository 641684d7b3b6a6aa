"""Driver API and the less common Bot API methods, through a real aiogram Bot on FakeSession."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto

from fake_telegram import FakeSession, FakeTelegram

TOKEN = "7000000001:FAKE-token-for-tests"


@pytest.fixture
def world() -> FakeTelegram:
    return FakeTelegram(TOKEN)


@pytest.fixture
async def bot(world: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=FakeSession(world))
    yield bot
    await bot.session.close()


async def test_bot_cannot_write_first_and_blocking_is_undone_by_writing(bot: Bot, world: FakeTelegram) -> None:
    user = world.new_user("赵六")
    world.private_chat(user)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(user.id, "x")
    world.user_sends(user, user.id, "/start")
    world.user_blocks_bot(user)
    world.user_sends(user, user.id, "/start")
    assert (await bot.send_message(user.id, "欢迎回来")).text == "欢迎回来"
    statuses = [
        u["my_chat_member"]["new_chat_member"]["status"] for u in world.pending_updates() if "my_chat_member" in u
    ]
    assert statuses == ["kicked", "member"]


async def test_group_membership_and_admin_info(bot: Bot, world: FakeTelegram) -> None:
    chief, member = world.new_user("村长"), world.new_user("会计")
    group = world.new_group("村委会", [chief, member])
    world.add_bot_to_group(group, admin=True, can_pin=True)
    [update] = world.take_updates()
    assert update["my_chat_member"]["new_chat_member"]["can_pin_messages"] is True
    admins = await bot.get_chat_administrators(group.id)
    assert [a.status for a in admins] == ["creator", "administrator"]
    assert (await bot.get_chat_member(group.id, member.id)).status == "member"
    assert await bot.get_chat_member_count(group.id) == 3
    assert await bot.leave_chat(group.id)
    with pytest.raises(TelegramForbiddenError, match="not a member of the group chat"):
        await bot.send_message(group.id, "x")


async def test_media_group_copy_forward_and_user_files(bot: Bot, world: FakeTelegram) -> None:
    user = world.new_user("钱七")
    group = world.new_group("二组", [user])
    world.add_bot_to_group(group)
    album = await bot.send_media_group(
        group.id,
        [
            InputMediaPhoto(media=BufferedInputFile(b"1", "a.jpg"), caption="账目"),
            InputMediaDocument(media=BufferedInputFile(b"2", "b.pdf")),
        ],
    )
    assert len({m.media_group_id for m in album}) == 1 and album[1].document.file_name == "b.pdf"  # type: ignore[union-attr]
    assert world.sends_per_chat[group.id] == 2
    sent = world.user_sends_document(user, group, "报销.xlsx", caption="请审核")
    copied = await bot.copy_message(group.id, group.id, sent.message_id)
    assert world.chats[group.id].messages[copied.message_id].text == "请审核"
    forwarded = await bot.forward_message(group.id, group.id, album[0].message_id)
    assert forwarded.forward_origin is not None and forwarded.caption == "账目"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(group.id, group.id, 999)


async def test_user_actions_show_in_inspection(bot: Bot, world: FakeTelegram) -> None:
    user = world.new_user("孙八")
    group = world.new_group("三组", [user])
    world.add_bot_to_group(group, admin=True, can_pin=True)
    notice = await bot.send_message(group.id, "公示一")
    await bot.pin_chat_message(group.id, notice.message_id)
    world.user_unpins(group, notice.message_id)
    assert world.pinned(group) == []
    assert (await bot.get_chat(group.id)).pinned_message is None
    photo = world.user_sends_photo(user, group, caption="现场")
    world.user_deletes_message(group, photo.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(group.id, photo.message_id)
    assert world.visible_text(group) == "公示一"
    marks = {line.message_id: line.marks for line in world.transcript() if line.chat == "三组"}
    assert marks[photo.message_id] == ("deleted", "photo")
    assert [r.method for r in world.requests][-1] == "deleteMessage"
