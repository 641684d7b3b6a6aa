"""The long-running bot: migrate, wire, register commands, run the delivery worker and poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from aiogram.types import User
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.base.logs import RedactTokens
from bot.base.settings import ConfigError, Settings
from bot.delivery.worker import DeliveryWorker
from bot.process.leader import Leadership
from bot.process.pages import serve_pages, web_deps
from bot.process.runtime import Runtime, build_runtime
from bot.process.wiring import build_bot, build_dispatcher
from bot.ui.commands import register_commands, register_menu_button
from models.db import is_sqlite
from models.migrate import MigrationError, upgrade_in_child
from reminders import scheduler

log = logging.getLogger("cunwu")


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(RedactTokens().redact(text).split())[:limit]


def ensure_sqlite_folder(url: str) -> None:
    """The folder of a SQLite file is created on start; one that cannot be is an operator's mistake."""
    database = make_url(url).database if is_sqlite(url) else None
    if not database or database == ":memory:":
        return
    folder = Path(database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the folder {folder} of the SQLite database in DATABASE_URL: "
                          f"{error.strerror or error}") from error


async def check_database(runtime: Runtime) -> None:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver's connection failure
        cause = getattr(error, "orig", None) or error
        raise ConfigError(f"cannot reach the database at DATABASE_URL: {type(cause).__name__}: "
                          f"{_one_line(str(cause).splitlines()[0] if str(cause) else '')}") from error


def telegram_refusal(error: TelegramAPIError, api_url: str) -> ConfigError:
    """Telegram's answer to the first request, as one line for the operator."""
    if isinstance(error, TelegramUnauthorizedError):
        return ConfigError("Telegram refused BOT_TOKEN (401 Unauthorized): check the token from @BotFather")
    if isinstance(error, TelegramNetworkError):
        return ConfigError(f"cannot reach Telegram at TELEGRAM_API_URL={api_url}: {_one_line(error.message)}")
    return ConfigError(f"Telegram at TELEGRAM_API_URL={api_url} refused the bot: {_one_line(error.message)}")


async def check_telegram(bot: Bot, api_url: str) -> User:
    try:
        return await bot.get_me()
    except TelegramAPIError as error:
        raise telegram_refusal(error, api_url) from error


async def prepare(settings: Settings) -> Runtime:
    """Everything a command needs before it works: a reachable, migrated database."""
    ensure_sqlite_folder(settings.database_url)
    runtime = build_runtime(settings)
    try:
        await check_database(runtime)
        await upgrade_in_child(settings.database_url)  # a child process: Alembic never loads into the bot
    except MigrationError as error:
        await runtime.close()
        raise ConfigError(f"the database migration failed: {error}") from error
    except ConfigError:
        await runtime.close()
        raise
    return runtime


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
            await self.dispatcher.start_polling(self.bot, handle_signals=True, close_bot_session=True)
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
    await BotApp(runtime, build_bot(runtime)).poll()
