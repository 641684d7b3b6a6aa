"""A fake Telegram Bot API: one world (FakeTelegram), two transports (HTTP server, in-process aiogram session)."""

from fake_telegram.people import FakeChat, FakeMessage, FakeUser, TranscriptLine
from fake_telegram.server import FakeBotAPIServer
from fake_telegram.session import FakeSession
from fake_telegram.world import ApiError, FakeTelegram, RateLimits, Reply

__all__ = [
    "ApiError",
    "FakeBotAPIServer",
    "FakeChat",
    "FakeMessage",
    "FakeSession",
    "FakeTelegram",
    "FakeUser",
    "RateLimits",
    "Reply",
    "TranscriptLine",
]
