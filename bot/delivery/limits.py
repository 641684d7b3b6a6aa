"""Telegram's sending limits as aiolimiter buckets, shared by everything that talks to groups: the delivery
worker and the keeper's probes (bot/delivery/keeper.py) take their turn from the same buckets."""

from __future__ import annotations

from dataclasses import dataclass

from aiolimiter import AsyncLimiter


@dataclass(frozen=True)
class Limits:
    """Telegram's documented limits: ~30 messages/s per bot, 20/min per group, ~1/s per private chat."""

    per_second: float = 30
    group_per_minute: float = 20
    private_per_second: float = 1


class ChatLimiters:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        # Evenly spaced, no burst: a burst of 30 spends Telegram's whole bucket at once, and then any
        # difference in latency between two requests (the first one opens the connection) is a 429.
        # At 30/s the 300-group broadcast takes 10 s either way.
        self.overall = AsyncLimiter(1, 1 / self.limits.per_second)
        self._chats: dict[int, AsyncLimiter] = {}

    def for_chat(self, chat_id: int) -> AsyncLimiter:
        if chat_id not in self._chats:
            group = chat_id < 0
            rate = self.limits.group_per_minute if group else self.limits.private_per_second
            self._chats[chat_id] = AsyncLimiter(rate, 60 if group else 1)
        return self._chats[chat_id]

    async def acquire(self, chat_id: int) -> None:
        """One request into `chat_id`: the bot's overall turn, then the chat's own."""
        await self.overall.acquire()
        await self.for_chat(chat_id).acquire()
