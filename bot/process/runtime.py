"""Dependencies built once at start-up and handed to the Dispatcher, the worker and the scheduler."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.base.clock import Clock, FileClock, SystemClock
from bot.base.metrics import Metrics
from bot.base.settings import Settings
from bot.delivery.limits import ChatLimiters
from bot.ui.texts import Texts
from catalogs import load_registry
from models.db import create_engine, session_factory
from services.policy import Policy
from web.deps import WebDeps
from web.http import RateLimits
from web.texts import WebTexts

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("cunwu")


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    texts: Texts
    clock: Clock
    policy: Policy
    bot_username: str = "cunwu_bot"
    outbox_signal: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Metrics = field(default_factory=Metrics)
    limiters: ChatLimiters = field(default_factory=ChatLimiters)  # Telegram's limits, for all who send
    bot: Bot | None = None  # set by BotApp; scheduled jobs that talk to Telegram directly use it
    _pages: WebDeps | None = None

    def pages(self) -> WebDeps:
        """What the board's pages and posters need (web.deps), built on first use: the web server, the
        poster button and `cunwu admin poster` share it (and its cache of PDFs)."""
        if self._pages is None:
            settings = self.settings
            self._pages = WebDeps(
                sessions=self.sessions, policy=self.policy, now=self.clock.now,
                texts=WebTexts(settings.default_language), public_base_url=settings.public_base_url,
                bot_token=settings.bot_token.get_secret_value(), rate_limits=RateLimits(settings.web_rate_limit),
                trusted_proxies=frozenset(settings.web_trusted_proxies), app_max_age=settings.web_app_max_age,
                wake=self.wake_delivery, county=frozenset(settings.admin_ids))
        return self._pages

    def wake_delivery(self) -> None:
        self.outbox_signal.set()

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.bot_username}?start={payload}"

    async def close(self) -> None:
        await self.engine.dispose()


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Raises CatalogError on a broken catalog: the bot refuses to start rather than run with half of one."""
    registry = load_registry([Path(d) for d in settings.catalog_dirs])
    registry.profile(settings.policy_profile)  # an unknown POLICY_PROFILE stops start-up too
    texts = Texts(settings.default_language)
    policy = Policy(registry, settings.policy_profile, settings.default_timezone, labels=texts.strings)
    engine = create_engine(settings.database_url)
    return Runtime(settings=settings, engine=engine, sessions=session_factory(engine),
                   texts=texts, clock=clock or clock_for(settings), policy=policy)


def clock_for(settings: Settings) -> Clock:
    if settings.fake_clock_file:
        log.warning("FAKE_CLOCK_FILE is set: the clock is read from %s (tests and demos only)",
                    settings.fake_clock_file)
        return FileClock(settings.fake_clock_file)
    return SystemClock()
