"""A fake Telegram Bot API: one world (FakeTelegram), two transports (HTTP server, in-process aiogram session)."""

from bot.fakeapi.people import FakeChat, FakeMessage, FakeUser, TranscriptLine
from bot.fakeapi.server import FakeBotAPIServer
from bot.fakeapi.session import FakeSession
from bot.fakeapi.world import ApiError, FakeTelegram, RateLimits, Reply

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
