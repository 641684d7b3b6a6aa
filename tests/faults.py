"""Telegram failing on demand, for delivery tests: a FakeSession whose next matching request gets the HTTP
answer Telegram would give (through aiogram's own check_response, so the worker sees aiogram's real
exception classes), or a hook that runs right after a request succeeded (to interleave another person's
action with a broadcast in flight)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.methods import TelegramMethod

from fake_telegram import FakeSession, FakeTelegram

if TYPE_CHECKING:
    from aiogram import Bot


@dataclass
class Fault:
    method: str
    chat_id: int | None
    status: int
    description: str
    times: int
    error: Exception | None = None
    retry_after: int = 5  # raised as it is (a bug, a driver error) instead of an HTTP answer


@dataclass
class Hook:
    method: str
    chat_id: int | None
    after: int  # run after the n-th matching request succeeded
    action: Callable[[], Awaitable[None]]


class FaultySession(FakeSession):
    def __init__(self, world: FakeTelegram, **kwargs: Any) -> None:
        super().__init__(world, **kwargs)
        self.faults: list[Fault] = []
        self.hooks: list[Hook] = []
        self.calls: list[tuple[str, int | None]] = []

    def fail(self, method: str, *, status: int = 400, description: str = "Bad Request", chat_id: int | None = None,
             times: int = 1, error: Exception | None = None, retry_after: int = 5) -> None:
        if status == 429 and description == "Bad Request":
            description = f"Too Many Requests: retry after {retry_after}"
        self.faults.append(Fault(method, chat_id, status, description, times, error, retry_after))

    def after(self, method: str, action: Callable[[], Awaitable[None]], *, chat_id: int | None = None,
              nth: int = 1) -> None:
        self.hooks.append(Hook(method, chat_id, nth, action))

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:  # noqa: ASYNC109
        name, chat_id = method.__api_method__, _chat_id(method)
        self.calls.append((name, chat_id))
        fault = self._take(name, chat_id)
        if fault is not None:
            if fault.error is not None:
                raise fault.error
            body: dict[str, Any] = {"ok": False, "error_code": fault.status, "description": fault.description}
            if fault.status == 429:
                body["parameters"] = {"retry_after": fault.retry_after}
            return self.check_response(bot=bot, method=method, status_code=fault.status, content=json.dumps(body))
        result = await super().make_request(bot, method, timeout)
        for hook in list(self.hooks):
            if hook.method == name and hook.chat_id in (None, chat_id):
                hook.after -= 1
                if hook.after == 0:
                    self.hooks.remove(hook)
                    await hook.action()
        return result

    def _take(self, name: str, chat_id: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.method == name and fault.chat_id in (None, chat_id):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def count(self, method: str, chat_id: int | None = None) -> int:
        return sum(1 for name, chat in self.calls if name == method and chat_id in (None, chat))


def _chat_id(method: TelegramMethod[Any]) -> int | None:
    value = getattr(method, "chat_id", None)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
