"""Keep aiogram's parametrized response types alive, so pydantic does not rebuild them every few requests.

aiogram's BaseSession.check_response validates every Bot API answer with `Response[method.__returning__]`.
pydantic caches a parametrized generic in a WeakValueDictionary, so once nothing else holds the class
(right after the response is parsed) the garbage collector frees it and the next request of that kind
builds it again: schema generation, ~8 ms each time, about once every twenty requests (bench/dispatch.py's
profile showed 58 rebuilds in 1,000 answers, 7% of the CPU). Holding one reference per returned type (a few
dozen at most: what Bot API methods return) makes the first build the only one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod

if TYPE_CHECKING:
    from aiogram import Bot

_KEPT: dict[Any, type] = {}


class KeepResponseTypes(BaseRequestMiddleware):
    async def __call__(self, make_request: NextRequestMiddlewareType[Any], bot: Bot,
                       method: TelegramMethod[Any]) -> Any:
        returning = method.__returning__
        if returning not in _KEPT:
            _KEPT[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)
