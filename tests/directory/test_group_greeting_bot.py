"""Groups learn what the bot is (issue 12, point 7): a greeting when the bot is added or promoted, naming /bind and
the missing pin right; /start and /help in a group say what residents can do there, with a button to the private
chat."""

from __future__ import annotations

from sqlmodel import select

from fake_telegram import FakeChat, FakeUser
from models import BoundChat
from tests.conftest import ADMIN_ID
from tests.directory.test_onboarding_bot import _invite_link
from tests.harness import Harness
from tests.notice_fixtures import seed_village


def _buttons(h: Harness, chat: FakeChat) -> list[dict[str, str]]:
    message = h.world.last_message(chat)
    assert message is not None
    return [b for row in message.data.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def _staff(h: Harness) -> FakeUser:
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    staff = h.world.new_user("王会计")
    await h.open_link(staff, await _invite_link(h, admin, "兴隆村", "村务公开人员"))
    return staff


async def test_added_as_a_member_the_bot_greets_names_bind_and_the_pin_right(harness: Harness) -> None:
    h = harness
    staff = await _staff(h)
    group = h.world.new_group("兴隆村民群", members=[staff])
    h.world.add_bot_to_group(group, admin=False)
    await h.flush()
    greeting = h.last(group)
    assert "村务公开助手" in greeting and "/bind" in greeting
    assert "“置顶消息”权限" in greeting
    private = [b["url"] for b in _buttons(h, group) if "私聊" in b["text"]]
    assert private == [f"https://t.me/{h.world.bot.username}?start=hello"]
    # the link opens the person's home in the private chat
    resident = h.world.new_user("李大爷")
    await h.open_link(resident, "hello")
    assert h.last(resident) and "没有明白" not in h.last(resident)
    # bound, then promoted without the pin right: greeted again, naming the right still missing
    await h.say(staff, "/bind", chat=group)
    h.world.add_bot_to_group(group, admin=True, can_pin=False)
    await h.flush()
    assert "本群已绑定到 兴隆村" in h.last(group) and "“置顶消息”权限" in h.last(group)
    assert "/bind" not in h.last(group)
    # given the right: nothing left to ask, so nothing said; the row follows the rights
    said = len(h.texts(group))
    h.world.add_bot_to_group(group, admin=True, can_pin=True)
    await h.flush()
    assert len(h.texts(group)) == said
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(BoundChat))).one().can_pin


async def test_a_group_the_directory_file_bound_gets_no_greeting_when_the_bot_can_pin(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world, groups=1)
    await h.flush()
    assert h.texts(cast.groups[0]) == []


async def test_a_rights_change_of_an_administrator_says_nothing(harness: Harness) -> None:
    h = harness
    staff = await _staff(h)
    group = h.world.new_group("兴隆村民群", members=[staff])
    h.world.add_bot_to_group(group, admin=True, can_pin=True)
    await h.flush()
    assert len(h.texts(group)) == 1 and "“置顶消息”权限" not in h.last(group)
    h.world.add_bot_to_group(group, admin=True, can_pin=False)
    await h.flush()
    assert len(h.texts(group)) == 1


async def test_start_and_help_in_a_group_say_what_residents_can_do_with_a_button_to_the_private_chat(
        harness: Harness) -> None:
    h = harness
    staff = await _staff(h)
    group = h.world.new_group("兴隆村民群", members=[staff])
    h.world.add_bot_to_group(group, admin=True, can_pin=True)
    await h.flush()
    resident = h.world.new_user("李大爷")
    await h.say(resident, "/start", chat=group)
    answer = h.last(group)
    assert "提问" in answer and "/join" in answer and "还没有绑定" in answer
    assert [b["text"] for b in _buttons(h, group)] == ["💬 私聊机器人"]
    await h.say(staff, "/bind", chat=group)
    await h.say(resident, "/help", chat=group)
    assert "本群属于 兴隆村" in h.last(group) and "/board" in h.last(group)
    urls = [b["url"] for b in _buttons(h, group)]
    assert urls[0].endswith("?start=hello") and "start=j_" in urls[1]
    await h.open_link(resident, urls[1].split("start=")[1])
    assert "已收到您加入" in h.last(resident)


async def test_greeting_in_english_for_an_english_speaking_adder(harness: Harness) -> None:
    h = harness
    owner = h.world.new_user("Mary", language_code="en")
    group = h.world.new_group("Village group", members=[owner])
    h.world.add_bot_to_group(group, admin=False)
    await h.flush()
    assert "send /bind" in h.last(group) and "Pin messages" in h.last(group)
    assert not any("\u4e00" <= c <= "\u9fff" for c in h.last(group))
