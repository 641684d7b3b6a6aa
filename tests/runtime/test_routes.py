"""Every filter and handler of the routers the wiring builds is asynchronous: aiogram runs a synchronous one
in a thread, a hop per update (bot/pipeline/routes.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram import F
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.filters import StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Chat, Message

from bot.pipeline.filters import Magic, asynchronous
from handlers import get_routers


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
