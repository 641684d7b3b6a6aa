"""Filters shared by routers, all asynchronous (bot/pipeline/routes.py says why). They answer "may this
person do this?" on the server, every update."""

from __future__ import annotations

import inspect
from typing import Any

from aiogram.filters import BaseFilter, Filter, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import TelegramObject, User
from magic_filter import MagicFilter

from bot.process.runtime import Runtime


class IsAdmin(BaseFilter):
    """A deployment admin (ADMIN_IDS)."""

    async def __call__(self, event: TelegramObject, event_from_user: User | None, runtime: Runtime,
                       **_: Any) -> bool:
        return event_from_user is not None and runtime.settings.is_admin(event_from_user.id)


class Magic(Filter):
    """An `F...` magic filter evaluated in the event loop: it only reads attributes of the update."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)  # a dict result is merged into the handler's arguments, as aiogram does

    def __str__(self) -> str:
        return f"Magic({self.magic!r})"


def asynchronous(check: Any) -> Any:
    """The same check as an async filter: magic filters and states are wrapped, async ones pass as they are.
    A synchronous function is refused: it would run in a thread (write it `async def`)."""
    if isinstance(check, MagicFilter):
        return Magic(check)
    if isinstance(check, State) or (inspect.isclass(check) and issubclass(check, StatesGroup)):
        return StateFilter(check)
    if isinstance(check, Filter) or inspect.iscoroutinefunction(inspect.unwrap(check)):
        return check
    raise TypeError(f"{check!r} is a synchronous filter: aiogram would run it in a thread on every update")
