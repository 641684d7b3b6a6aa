"""The long-running bot: migrate, wire, register commands, run the delivery worker and poll."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import User
from aiohttp import web

from bot.base.settings import ConfigError, Settings
from bot.delivery.worker import DeliveryWorker
from bot.process.leader import Leadership
from bot.process.pages import serve_pages, web_deps
from bot.process.prepare import one_line, prepare
from bot.process.runtime import Runtime
from bot.process.wiring import build_bot, build_dispatcher
from bot.ui.commands import register_commands, register_menu_button
from reminders import scheduler

log = logging.getLogger("cunwu")

# Updates handled at once while polling (aiogram >= 3.22: `tasks_concurrency_limit`). Without a bound, a backlog
# (a restart after downtime, 200 people writing at once) becomes one task per update, each holding a session,
# a pooled connection and its buffers at the same time. 10 matches PostgreSQL's pool (models/db.py: more would
# only queue for a connection) and is more than SQLite's one writer can use; at ~50-100 ms per reply round trip
# it is still 100+ updates a second, above the 30 messages a second Telegram lets a bot send. A reply waiting
# out a short 429 (bot/pipeline/middlewares.py, at most REPLY_RETRY_LIMIT s) holds one of the 10.
POLLING_CONCURRENCY = 10


def telegram_refusal(error: TelegramAPIError, api_url: str) -> ConfigError:
    """Telegram's answer to the first request, as one line for the operator."""
    if isinstance(error, TelegramUnauthorizedError):
        return ConfigError("Telegram refused BOT_TOKEN (401 Unauthorized): check the token from @BotFather")
    if isinstance(error, TelegramNetworkError):
        return ConfigError(f"cannot reach Telegram at TELEGRAM_API_URL={api_url}: {one_line(error.message)}")
    return ConfigError(f"Telegram at TELEGRAM_API_URL={api_url} refused the bot: {one_line(error.message)}")


async def check_telegram(bot: Bot, api_url: str) -> User:
    try:
        return await bot.get_me()
    except TelegramAPIError as error:
        raise telegram_refusal(error, api_url) from error


def freeze_startup_heap() -> None:
    """Called once the dispatcher is built: what start-up made (modules, aiogram's types, SQLAlchemy's
    mappers, the routers; ~180,000 objects) lives as long as the process, so it leaves the garbage collector's
    care. A full collection then walks only what came since: in bench/dispatch.py's process (16,000 updates,
    three full collections) 27 ms each instead of 157 ms, a pause during which no update is handled. Garbage
    is collected first, so none is frozen."""
    gc.collect()
    gc.freeze()


class BotApp:
    """The bot, its dispatcher and its background work, started and stopped together.

    Every instance handles updates; only the leader (bot/process/leader.py) runs the scheduler and the delivery
    worker, and another instance takes over when the leader dies.
    """

    def __init__(self, runtime: Runtime, bot: Bot, *, confirm_after_handling: bool = False) -> None:
        self.runtime, self.bot = runtime, bot
        runtime.bot = bot  # the scheduler's jobs reach the bot through the runtime (the keeper probes)
        self.dispatcher: Dispatcher = build_dispatcher(runtime, confirm_after_handling=confirm_after_handling)
        self.worker = DeliveryWorker(runtime, bot)
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.leadership = Leadership(runtime.engine, runtime.settings.database_url, self._lead, self._follow,
                                     runtime.settings.leader_interval)
        self.scheduler: Any = None
        self._worker: tuple[asyncio.Event, asyncio.Task[None]] | None = None
        self._pages: web.AppRunner | None = None

    @property
    def leading(self) -> bool:
        return self.leadership.leading

    @property
    def delivering(self) -> bool:
        """The delivery worker runs in this process (it does only while this instance leads)."""
        return self._worker is not None and not self._worker[1].done()

    async def start_background(self) -> None:
        me = await check_telegram(self.bot, self.runtime.settings.telegram_api_url)
        self.runtime.bot_username = me.username or self.runtime.bot_username
        await register_commands(self.bot, self.runtime.texts, self.runtime.settings.admin_ids)
        await register_menu_button(self.bot, self.runtime.texts, self.runtime.settings.public_base_url)
        self.tasks.append(asyncio.create_task(self.leadership.run(self.stop_event)))

    async def _lead(self) -> None:
        stop = asyncio.Event()
        self._worker = (stop, asyncio.create_task(self.worker.run_forever(stop)))
        self.scheduler = scheduler.start(self.runtime)

    async def _follow(self) -> None:
        scheduler.stop(self.scheduler)
        self.scheduler = None
        if self._worker is not None:
            stop, task = self._worker
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._worker = None

    async def serve_pages(self) -> None:
        """Polling mode: the board on WEB_HOST:WEB_PORT (0: no pages); webhook mode serves them itself."""
        settings = self.runtime.settings
        if settings.web_port:
            self._pages = await serve_pages(web_deps(self.runtime, self.bot), settings.web_host, settings.web_port)

    async def stop_background(self) -> None:
        if self._pages is not None:
            await self._pages.cleanup()
            self._pages = None
        self.stop_event.set()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # leadership.run resigns on its way out, which stops the worker and scheduler

    async def poll(self) -> None:
        try:
            await self.serve_pages()  # first: a port already taken stops start-up before anything runs
            await self.start_background()
            log.info("cunwu is polling %s", self.runtime.settings.telegram_api_url)
            await self.dispatcher.start_polling(self.bot, handle_signals=True, close_bot_session=True,
                                                tasks_concurrency_limit=POLLING_CONCURRENCY)
        finally:
            await self.stop_background()
            await self.bot.session.close()  # when start-up failed, polling never closed it
            await self.runtime.close()


async def run(settings: Settings) -> None:
    """The token first (a refusal touches nothing), then the database (reached and migrated), then Telegram
    (getMe, in start_background): the first getMe means the schema is ready, which the end-to-end tests
    rely on."""
    settings.require_token()
    runtime = await prepare(settings)
    app = BotApp(runtime, build_bot(runtime))
    freeze_startup_heap()
    await app.poll()
