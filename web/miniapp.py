"""The board inside Telegram (a Mini App): the same public board, and for a person the server verified, their
own lists. The page itself is public; the lists come from POST /app/me with the init data Telegram signed
with a key derived from the bot token (aiogram's web_app utilities check it), refused when forged or stale.
Nothing but published, screened content is shown without that verification."""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from services.board.mine import lists_for
from web import views
from web.pages import ctx_of, html

log = logging.getLogger("cunwu.web")
MAX_INIT_DATA = 4096  # Telegram's init data is well under 1 KB; more is not init data
CLOCK_SKEW = 300  # seconds an auth_date may lie in the future (a client's clock)


class Refused(Exception):
    """The init data does not prove who sent it; `reason` is a word for the page (no detail an attacker wants)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verified_user(token: str, init_data: str, now: datetime, max_age: int) -> int:
    """The Telegram user id the init data was signed for."""
    # Imported here: the bot's process has imported aiogram already (lazily, bot/base/lazy_aiogram.py), and a
    # process that imports web/ first must not build all of aiogram's types for one function.
    from aiogram.utils.web_app import safe_parse_webapp_init_data

    if not token or not init_data or len(init_data) > MAX_INIT_DATA:
        raise Refused("missing")
    try:
        data = safe_parse_webapp_init_data(token, init_data)
    except ValueError as error:  # a bad signature, or fields that do not parse
        raise Refused("signature") from error
    age = (now - data.auth_date).total_seconds()
    if data.user is None:
        raise Refused("signature")
    if age > max_age or age < -CLOCK_SKEW:
        raise Refused("expired")
    return data.user.id


async def page(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    ref = request.query.get("v")
    shown = await views.village(ctx, ref, app=True) if ref else await views.index(ctx, app=True)
    response = html(request, shown)
    response.headers["Cache-Control"] = "no-cache"
    return response


async def mine(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    deps = ctx.deps
    form = await request.post()
    try:
        user_id = verified_user(deps.bot_token, str(form.get("init_data", "")), ctx.now, deps.app_max_age)
    except Refused as refused:
        log.info("Mini App init data refused (%s) from %s", refused.reason, request.remote)
        reason = ctx.deps.texts.t(ctx.deps.texts.lang(ctx.want), f"app.refused.{refused.reason}")
        return _private(views.mine(ctx, None, str(reason)), status=403)
    async with deps.sessions() as session:
        lists = await lists_for(session, deps.policy, user_id, ctx.now)
    return _private(views.mine(ctx, lists))


def _private(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})
