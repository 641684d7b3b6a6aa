"""Telegram's sending limits as aiolimiter buckets, shared by everything that talks to Telegram: the delivery
worker, its progress edits and the keeper's probes (bot/delivery/keeper.py) take their turn from the same
buckets. Messages, pins, unpins and edits all take a turn (Telegram counts them against the same limits).

`AsyncLimiter(max_rate, time_period)` is a leaky bucket of capacity `max_rate` draining at
`max_rate / time_period` a second: the same meter as a token bucket of that capacity and rate. The bot's
overall bucket holds `burst` turns at `per_second`: when the sender falls behind (a slow row, a loaded CPU, a
slow answer) the unused turns pile up, up to `burst`, and are spent at once to make up the lost time, so the
rate over a broadcast stays at the limit instead of losing every late turn for good (the old limiter,
capacity 1, spaced every request 1/30 s after the previous turn, never catching up).

Why not Telegram's whole bucket (30): a bucket as full as Telegram's leaves no room for the network. Requests
leave here conforming to (burst, rate) and reach Telegram with their latencies varying by up to J seconds;
Telegram then sees them conforming to (burst + rate * J, rate), within its own 30 for J <= (30 - burst) /
rate: with burst 10, two thirds of a second of jitter, and a third of a second of lost time made up at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiolimiter import AsyncLimiter


@dataclass(frozen=True)
class Limits:
    """Telegram's documented limits: ~30 messages/s per bot, 20/min per group, ~1/s per private chat;
    `burst`: the turns the bot's overall bucket holds (see the module's docstring)."""

    per_second: float = 30
    group_per_minute: float = 20
    private_per_second: float = 1
    burst: float = 10


class ChatLimiters:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        burst = max(1.0, min(self.limits.burst, self.limits.per_second))
        self.overall = AsyncLimiter(burst, burst / self.limits.per_second)
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
