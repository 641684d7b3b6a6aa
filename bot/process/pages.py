"""The board's pages (web/) served by the bot's own process: its dependencies built from the runtime, the
files it shows fetched from Telegram through the bot, and its own listening socket in polling mode
(`cunwu run`, WEB_HOST:WEB_PORT). `cunwu webhook` adds the pages beside the webhook instead."""

from __future__ import annotations

import io
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiohttp import web

from bot.base.settings import ConfigError
from bot.process.runtime import Runtime
from web.app import build_web_app
from web.deps import FetchFile, WebDeps

log = logging.getLogger("cunwu.web")
MAX_FILE = 20 * 1024 * 1024  # what the Bot API lets a bot download


def web_deps(runtime: Runtime, bot: Bot | None) -> WebDeps:
    """The runtime's page dependencies, able to show attachments when there is a bot to fetch them with."""
    deps = runtime.pages()
    if bot is not None:
        deps.fetch_file = file_fetcher(bot)
    return deps


def file_fetcher(bot: Bot) -> FetchFile:
    async def fetch(file_id: str) -> bytes | None:
        try:
            file = await bot.get_file(file_id)
            if not file.file_path or (file.file_size or 0) > MAX_FILE:
                return None
            buffer = io.BytesIO()
            await bot.download_file(file.file_path, buffer)
            return buffer.getvalue()
        except (TelegramAPIError, TelegramNetworkError) as error:
            log.warning("a board file could not be fetched from Telegram: %s", type(error).__name__)
            return None

    return fetch


async def serve_pages(deps: WebDeps, host: str, port: int) -> web.AppRunner:
    """Listening before polling starts: a port already taken stops start-up with one line."""
    runner = web.AppRunner(build_web_app(deps), access_log=None)  # nginx keeps the access log, if anyone
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        raise ConfigError(f"cannot serve the board on WEB_HOST={host} WEB_PORT={port}: "
                          f"{error.strerror or error}") from error
    log.info("the board is served on http://%s:%s/", host, port)
    return runner
