"""Handlers declared once at import time, attached to a fresh aiogram Router for each Dispatcher.

An aiogram Router can belong to one parent only, but one process builds several Dispatchers (tests,
the demo, benchmarks, two webhook instances in one test). `Routes` keeps aiogram's decorator style:
`routes.message(Command("x"))` and `routes.message.filter(...)` mean what they mean on a Router.

Every filter reaches aiogram asynchronous. aiogram runs a synchronous filter (an `F...` magic filter, a
`State` or `StatesGroup` used as a filter, a plain function) with `asyncio.to_thread`: a thread hop per
filter per update, which on a busy machine costs more than the rest of the update's work (a plain text
message falling through every router paid ~38 hops). `build` hands aiogram the same checks as async
filters (bot/pipeline/filters.py): what a handler declares is unchanged, and tests/runtime/test_routes.py
checks that no router the wiring builds is left with a synchronous filter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router

from bot.pipeline.filters import asynchronous

Handler = Callable[..., Any]


class _Observer:
    def __init__(self) -> None:
        self.filters: list[Any] = []
        self.handlers: list[tuple[Handler, tuple[Any, ...]]] = []

    def filter(self, *filters: Any) -> None:
        self.filters.extend(filters)

    def __call__(self, *filters: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.handlers.append((handler, filters))
            return handler

        return register


class Routes:
    def __init__(self, name: str) -> None:
        self.name = name
        self.message = _Observer()
        self.callback_query = _Observer()
        self.my_chat_member = _Observer()

    def build(self) -> Router:
        router = Router(name=self.name)
        for event in ("message", "callback_query", "my_chat_member"):
            source: _Observer = getattr(self, event)
            target = getattr(router, event)
            if source.filters:
                target.filter(*map(asynchronous, source.filters))
            for handler, filters in source.handlers:
                target.register(handler, *map(asynchronous, filters))
        return router
