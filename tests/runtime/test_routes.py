"""Every filter and handler of the routers the wiring builds is asynchronous: aiogram runs a synchronous one
in a thread, a hop per update (bot/pipeline/routes.py). No handler takes the group chatter the wiring drops
before any router (bot/pipeline/quiet.py), and the Dispatcher leaves out no handler that could take an update
(bot/pipeline/selection.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from unittest.mock import AsyncMock

import pytest
from aiogram import Bot, F
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Message, PhotoSize, Sticker, TelegramObject, User

from bot.pipeline.filters import Magic, asynchronous
from bot.pipeline.quiet import group_chatter
from bot.pipeline.selection import Selection
from handlers import get_routers
from tests.conftest import TEST_TOKEN as TOKEN


def _callables() -> list[tuple[str, CallableObject]]:
    found: list[tuple[str, CallableObject]] = []
    for router in get_routers():
        for event, observer in router.observers.items():
            where = f"{router.name}.{event}"
            found += [(where, f) for f in observer._handler.filters or []]
            for handler in observer.handlers:
                found += [(f"{where}.{handler.callback.__name__}", c) for c in [handler, *(handler.filters or [])]]
    return found


def test_no_router_runs_anything_in_a_thread() -> None:
    found = _callables()
    assert len(found) > 100  # the walk reached the handlers and their filters
    assert [(where, c.callback) for where, c in found if not c.awaitable] == []


class Steps(StatesGroup):
    one = State()


def test_magic_filters_and_states_become_async_filters_and_plain_functions_are_refused() -> None:
    assert isinstance(asynchronous(F.text), Magic)
    assert isinstance(asynchronous(Steps.one), StateFilter)
    assert isinstance(asynchronous(Steps), StateFilter)

    def synchronous(message: object) -> bool:
        return True

    with pytest.raises(TypeError, match="synchronous filter"):
        asynchronous(synchronous)


async def test_a_magic_filter_answers_as_aiogram_would() -> None:
    message = Message(message_id=1, date=datetime.now(UTC), chat=Chat(id=1, type="private"), text="/start")
    assert await Magic(F.chat.type == "private")(message) is True
    assert await Magic(~F.text.startswith("/"))(message) is False
    assert await Magic(F.migrate_to_chat_id)(message) is None


def _states() -> set[str | None]:
    """Every conversation state a router's filter names, and no conversation at all."""
    found: set[str | None] = {None}
    for _, callable_ in _callables():
        if isinstance(callable_.callback, StateFilter):
            for state in callable_.callback.states:
                if isinstance(state, State):
                    found.add(state.state)
                elif isinstance(state, type) and issubclass(state, StatesGroup):
                    found |= {s.state for s in state.__all_states__}
                elif state is None or isinstance(state, str):
                    found.add(state)
    return found


def _chatter() -> list[Message]:
    """What people say in a resident group: text, a photo with a caption, a reply, a sticker."""
    when, group = datetime.now(UTC), Chat(id=-100123, type="supergroup", title="兴隆村村民群")
    person = User(id=1234, is_bot=False, first_name="村民")
    said = [Message(message_id=1, date=when, chat=group, from_user=person, text="今天开会吗"),
            Message(message_id=2, date=when, chat=group, from_user=person, caption="照片", photo=[PhotoSize(
                file_id="p", file_unique_id="p", width=1, height=1)]),
            Message(message_id=3, date=when, chat=group.model_copy(update={"type": "group"}), from_user=person,
                    text="好的 /start 不是命令"),
            Message(message_id=4, date=when, chat=group, from_user=person, sticker=Sticker(
                file_id="s", file_unique_id="s", type="regular", width=1, height=1, is_animated=False,
                is_video=False))]
    return said


async def test_no_message_handler_takes_the_group_chatter_the_wiring_drops_unseen() -> None:
    """QuietGroups drops group chatter before any handler sees it (bot/pipeline/quiet.py): no handler may want
    it, in any conversation state, or a new group handler would silently never run."""
    bot = Bot(TOKEN)
    runtime = SimpleNamespace(settings=SimpleNamespace(is_admin=lambda user_id: True))
    states, taken = _states(), []
    assert len(states) > 20  # the walk found the conversations
    for message in _chatter():
        assert group_chatter(message)
        for router in get_routers():
            observer = router.message
            for raw_state in states:
                kwargs = {"bot": bot, "event_from_user": message.from_user, "event_chat": message.chat,
                          "raw_state": raw_state, "runtime": runtime}
                passed, kwargs = await observer._handler.check(message, **kwargs)
                if not passed:
                    continue
                for handler in observer.handlers:
                    if (await handler.check(message, **kwargs))[0]:
                        taken.append((router.name, handler.callback.__name__, raw_state, message.message_id))
    assert taken == []


async def test_group_commands_and_migrations_are_not_chatter() -> None:
    when, group = datetime.now(UTC), Chat(id=-100123, type="supergroup")
    assert not group_chatter(Message(message_id=1, date=when, chat=group, text="/help@cunwu_bot"))
    assert not group_chatter(Message(message_id=2, date=when, chat=group, caption="/board"))
    assert not group_chatter(Message(message_id=3, date=when, chat=group.model_copy(update={"type": "group"}),
                                     migrate_to_chat_id=-100456))
    assert not group_chatter(Message(message_id=4, date=when, chat=Chat(id=5, type="private"), text="你好"))


def _commands() -> set[str]:
    names: set[str] = set()
    for _, callable_ in _callables():
        if isinstance(callable_.callback, Command):
            names |= {str(name) for name in callable_.callback.commands}
    return names


def _prefixes() -> set[str]:
    return {c.callback.callback_data.__prefix__ for _, c in _callables() if isinstance(c.callback, CallbackQueryFilter)}


async def test_the_selection_never_leaves_out_a_handler_whose_filters_pass() -> None:
    """SelectingDispatcher offers an update only to the handlers `Selection` admits (bot/pipeline/selection.py):
    every handler whose filters pass a message or a tap, in any state, must be among them."""
    bot = Bot(TOKEN)
    me = User(id=42, is_bot=True, first_name="村务", username="cunwu_bot")
    bot.me = AsyncMock(return_value=me)  # type: ignore[method-assign]  # "/help@cunwu_bot" asks who the bot is
    runtime = SimpleNamespace(settings=SimpleNamespace(is_admin=lambda user_id: True))
    when, person = datetime.now(UTC), User(id=1234, is_bot=False, first_name="村民")
    chats = [Chat(id=1234, type="private"), Chat(id=-100123, type="supergroup")]
    texts = ["你好", "/START", *(f"/{name} x_1" for name in _commands())]
    events: list[TelegramObject] = [Message(message_id=1, date=when, chat=chat, from_user=person, text=text)
                                    for chat in chats for text in texts]
    events += [Message(message_id=1, date=when, chat=chats[1], from_user=person, text=f"/{name}@cunwu_bot")
               for name in _commands()]
    events += [Message(message_id=2, date=when, chat=chat, from_user=person, caption="/board", photo=[PhotoSize(
        file_id="p", file_unique_id="p", width=1, height=1)]) for chat in chats]
    events += [CallbackQuery(id="1", from_user=person, chat_instance="1", data=f"{prefix}:1:2:3:x")
               for prefix in _prefixes()]
    selection, states, passed = Selection(get_routers()), _states(), 0
    for event in events:
        kind = "message" if isinstance(event, Message) else "callback_query"
        for raw_state in states:
            admitted = {id(h) for _, handlers in selection.candidates(kind, event, raw_state) for h in handlers or []}
            for router in selection.routers:
                for handler in router.observers[kind].handlers:
                    kwargs = {"bot": bot, "event_from_user": person, "raw_state": raw_state, "runtime": runtime,
                              "session": None}  # a filter that reads the database is not reached: no reply here
                    if (await handler.check(event, **kwargs))[0]:
                        passed += 1
                        assert id(handler) in admitted, (router.name, handler.callback.__name__, raw_state, event)
    assert passed > 500  # the samples reached the handlers
