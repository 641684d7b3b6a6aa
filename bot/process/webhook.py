"""`cunwu webhook`: several instances behind a load balancer, each an aiohttp server with aiogram's
webhook request handler. An update is confirmed (2xx) only after it was handled and committed; a failed
one gets a 5xx so Telegram sends it again, and processed update ids make a redelivery harmless."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from aiogram import Bot
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot.base.settings import Settings
from bot.process.app import BotApp, freeze_startup_heap, prepare
from bot.process.pages import web_deps
from bot.process.wiring import build_bot
from web.app import add_pages

log = logging.getLogger("cunwu.webhook")


class ConfirmAfterHandling(SimpleRequestHandler):
    """aiogram's handler answers Telegram after 55 s even while the update is still being handled (it
    moves the handling to the background), so a crash after that would lose the update. Here the answer
    always waits for the handler: if Telegram gives up first it sends the update again, and the second
    delivery waits for the first (event isolation) and is then skipped as already processed."""

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        update = Update.model_validate(await request.json(loads=bot.session.json_loads), context={"bot": bot})
        try:
            result = await self.dispatcher.feed_update(bot, update, **self.data)
        except Exception as error:  # the middleware logged a handler's failure with its traceback
            log.warning("update %s not confirmed (%s): Telegram will send it again", update.update_id,
                        type(error).__name__)
            return web.Response(status=500, text="update failed; send it again")
        method = result if isinstance(result, TelegramMethod) else None
        return web.Response(body=self._build_response_writer(bot=bot, result=method))


class Probes:
    """/healthz (JSON, 503 when the database or Redis is unreachable) and /metrics (Prometheus text)."""

    def __init__(self, app: BotApp) -> None:
        self.app = app

    async def health(self, request: web.Request) -> web.Response:
        app = self.app
        checks: dict[str, Any] = {"leader": app.leading,
                                  "delivery": "running" if app.delivering else "standby",
                                  "scheduler": "running" if app.scheduler is not None else "standby"}
        try:
            async with app.runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
            await app.runtime.metrics.refresh(app.runtime.sessions)
            checks["outbox"] = app.runtime.metrics.outbox()
        except Exception as error:  # any failure makes the instance unhealthy, with the reason
            checks["database"] = type(error).__name__
        checks["redis"] = await self._redis()
        healthy = checks["database"] == "ok" and checks["redis"] in ("ok", "not configured")
        return web.json_response(checks, status=200 if healthy else 503)

    async def _redis(self) -> str:
        redis = getattr(self.app.dispatcher.storage, "redis", None)
        if redis is None:
            return "not configured"
        try:
            await redis.ping()
            return "ok"
        except Exception as error:  # unreachable Redis makes the instance unhealthy
            return type(error).__name__

    async def metrics(self, request: web.Request) -> web.Response:
        metrics = self.app.runtime.metrics
        try:
            await metrics.refresh(self.app.runtime.sessions)
        except Exception as error:  # the process counters are still worth a scrape
            log.warning("metrics: the database figures are stale: %s", type(error).__name__)
        return web.Response(body=metrics.exposition(), content_type="text/plain")


def make_web_app(app: BotApp, secret: str, path: str) -> web.Application:
    """Telegram's route, the probes, and the board's pages beside them (web.app.add_pages)."""
    web_app = add_pages(web.Application(), web_deps(app.runtime, app.bot))
    ConfirmAfterHandling(app.dispatcher, app.bot, handle_in_background=False, secret_token=secret).register(
        web_app, path=path)
    probes = Probes(app)
    web_app.router.add_get("/healthz", probes.health)
    web_app.router.add_get("/metrics", probes.metrics)
    return web_app


async def serve(settings: Settings) -> None:
    url, secret = settings.require_webhook()
    runtime = await prepare(settings)
    app = BotApp(runtime, build_bot(runtime), confirm_after_handling=True)
    freeze_startup_heap()
    runner = web.AppRunner(make_web_app(app, secret, settings.webhook_path))
    await runner.setup()
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    await app.bot.set_webhook(url, secret_token=secret, drop_pending_updates=False,
                              allowed_updates=app.dispatcher.resolve_used_update_types())
    await app.start_background()
    log.info("cunwu webhook listening on %s:%s%s", settings.webhook_host, settings.webhook_port,
             settings.webhook_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await app.stop_background()
        await runner.cleanup()
        await app.bot.session.close()
        await runtime.close()
