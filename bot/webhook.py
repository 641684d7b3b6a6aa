"""`cunwu webhook`: several instances behind a load balancer, each an aiohttp server with aiogram's
webhook request handler. An update is confirmed (2xx) only after it was handled; a failed one gets a
5xx so Telegram sends it again, and processed update ids make a redelivery harmless."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot.app import BotApp, prepare
from bot.settings import Settings
from bot.wiring import build_bot

log = logging.getLogger("cunwu.webhook")


def make_web_app(app: BotApp, secret: str, path: str) -> web.Application:
    web_app = web.Application()
    handler = SimpleRequestHandler(app.dispatcher, app.bot, handle_in_background=False, secret_token=secret)
    handler.register(web_app, path=path)
    web_app.router.add_get("/healthz", lambda request: _health(app))
    web_app.router.add_get("/metrics", lambda request: _metrics(app))
    return web_app


async def _health(app: BotApp) -> web.Response:
    checks: dict[str, object] = {"leader": app.leading}
    try:
        async with app.runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
        await app.runtime.metrics.refresh(app.runtime.sessions)
        checks["outbox"] = app.runtime.metrics.outbox()
    except Exception as error:  # any failure makes the instance unhealthy, with the reason
        checks["database"] = type(error).__name__
    checks["redis"] = await _redis_ok(app)
    healthy = checks["database"] == "ok" and checks["redis"] in ("ok", "not configured")
    return web.json_response(checks, status=200 if healthy else 503)


async def _redis_ok(app: BotApp) -> str:
    redis = getattr(app.dispatcher.storage, "redis", None)
    if redis is None:
        return "not configured"
    try:
        await redis.ping()
        return "ok"
    except Exception as error:  # unreachable Redis makes the instance unhealthy
        return type(error).__name__


async def _metrics(app: BotApp) -> web.Response:
    await app.runtime.metrics.refresh(app.runtime.sessions)
    return web.Response(body=app.runtime.metrics.exposition(), content_type="text/plain")


async def serve(settings: Settings) -> None:
    url, secret = settings.require_webhook()
    runtime = await prepare(settings)
    app = BotApp(runtime, build_bot(runtime), confirm_after_handling=True)
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
