"""Filters shared by routers. They answer "may this person do this?" on the server, every update."""

from __future__ import annotations

from typing import Any

from aiogram.filters import BaseFilter
from aiogram.types import TelegramObject, User

from bot.process.runtime import Runtime


class IsAdmin(BaseFilter):
    """A deployment admin (ADMIN_IDS)."""

    async def __call__(self, event: TelegramObject, event_from_user: User | None, runtime: Runtime,
                       **_: Any) -> bool:
        return event_from_user is not None and runtime.settings.is_admin(event_from_user.id)
