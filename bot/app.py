"""The long-running bot: migrate, wire, register commands, run the delivery worker and poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from sqlalchemy import text

from bot.commands import register_commands
from bot.delivery import DeliveryWorker
from bot.leader import Leadership
from bot.runtime import Runtime, build_runtime
from bot.settings import ConfigError, Settings
from bot.wiring import build_bot, build_dispatcher
from models.migrate import upgrade
from reminders import scheduler

log = logging.getLogger("cunwu")


async def check_database(runtime: Runtime) -> None:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver's connection failure
        raise ConfigError(f"cannot reach the database at DATABASE_URL: {type(error).__name__}") from error


async def prepare(settings: Settings) -> Runtime:
    """Everything `run` needs before the first update: a reachable, migrated database."""
    runtime = build_runtime(settings)
    await check_database(runtime)
    await asyncio.to_thread(upgrade, settings.database_url)
    return runtime


class BotApp:
    """The bot, its dispatcher and its background work, started and stopped together.

    Every instance handles updates; only the leader (bot/leader.py) runs the scheduler and the delivery
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

    @property
    def leading(self) -> bool:
        return self.leadership.leading

    @property
    def delivering(self) -> bool:
        """The delivery worker runs in this process (it does only while this instance leads)."""
        return self._worker is not None and not self._worker[1].done()

    async def start_background(self) -> None:
        me = await self.bot.get_me()
        self.runtime.bot_username = me.username or self.runtime.bot_username
        await register_commands(self.bot, self.runtime.texts)
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

    async def stop_background(self) -> None:
        self.stop_event.set()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task  # leadership.run resigns on its way out, which stops the worker and scheduler

    async def poll(self) -> None:
        await self.start_background()
        try:
            await self.dispatcher.start_polling(self.bot, handle_signals=True, close_bot_session=True)
        finally:
            await self.stop_background()
            await self.runtime.close()


async def run(settings: Settings) -> None:
    token = settings.require_token()  # before touching anything else: a one-line refusal
    del token
    runtime = await prepare(settings)
    app = BotApp(runtime, build_bot(runtime))
    log.info("cunwu is polling %s", settings.telegram_api_url)
    await app.poll()
