"""Signing in to the township console from inside Telegram (a Mini App), beside the one-time link of
web/console/pages.py. The bot's /console offers a web_app button to GET /console/app; that page's only script
(static/console-app.js) posts the init data Telegram gave it to POST /console/app, which checks the signature
(aiogram's web_app utilities, a key derived from the bot token), refuses init data older than
signin.APP_MAX_AGE by the process's clock, looks the Telegram user up in the directory and re-checks the
inspector grant, then sets the same session cookie as the link. The route names start with "app" so that
Telegram Web may show these two pages in its frame (web/app.py); the console's own pages may not be framed."""

from __future__ import annotations

import logging

from aiohttp import web

from services.errors import DomainError
from services.township import signin
from web.console.pages import PATH, console_page, signed_in_response
from web.deps import Ctx
from web.miniapp import Refused, verified_user
from web.pages import ctx_of

log = logging.getLogger("cunwu.web")
APP_PATH = PATH + "/app"


async def page(request: web.Request) -> web.Response:
    """The page the web_app button opens: a form its script fills with the init data and sends."""
    return console_page(ctx_of(request), "console_app", reason="")


async def verify(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    form = await request.post()
    try:
        user_id = verified_user(ctx.deps.bot_token, str(form.get("init_data", "")), ctx.now,
                                int(signin.APP_MAX_AGE.total_seconds()))
        async with ctx.deps.sessions() as session:
            token = await signin.from_web_app(session, user_id, ctx.now, ctx.deps.county)
            await session.commit()
    except Refused as refused:
        log.info("console Mini App sign-in refused (%s) from %s", refused.reason, request.remote)
        return _refused(ctx, refused.reason)
    except DomainError:
        log.info("console Mini App sign-in refused (no inspector) from %s", request.remote)
        return _refused(ctx, "role")
    raise signed_in_response(ctx, token)


def _refused(ctx: Ctx, reason: str) -> web.Response:
    return console_page(ctx, "console_app", status=403, reason=reason)


ROUTES = (
    ("GET", APP_PATH, "app-console", page),
    ("POST", APP_PATH, "app-console-signin", verify),
)
