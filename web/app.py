"""The pages as an aiohttp application: ROUTES is the one table of addresses (the township console adds its own
rows), and one middleware gives every page the same manners: a rate limit per address, a page in the visitor's
language for 404, 429 and 500 (never a traceback), headers that keep pages safe to embed nowhere but Telegram,
and on SQLite the page's statements sent to aiosqlite's thread (`off_the_loop`), so a heavy page (the
console's county view, an export) never holds up the updates handled on the loop. `cunwu run` serves this
application on WEB_HOST:WEB_PORT; `cunwu webhook` adds its routes beside the webhook's (bot/process/pages.py),
where the middleware leaves Telegram's route alone."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from models.sqlite_inline import off_the_loop
from services.errors import DomainError
from web import miniapp, pages, posters, views
from web.console import app as console_app
from web.console import pages as console
from web.console import photos as console_photos
from web.deps import DEPS, WebDeps
from web.http import PAGE_COST, PDF_COST, client_address

log = logging.getLogger("cunwu.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC = Path(__file__).parent / "static"
PAGE = "page:"  # route names of the pages start with it; the middleware serves those (and unknown addresses)
REF = r"{ref:[A-Za-z0-9_-]{1,40}}"
NOTICE = REF + r"/n/{id:\d{1,10}}"
QUARTER = REF + r"/q/{quarter:\d{4}Q[1-4]}"
SIZE = r"{size:a[34]}"

ROUTES: tuple[tuple[str, str, str, Handler], ...] = (
    ("GET", "/", "index", pages.index),
    ("GET", "/robots.txt", "robots", pages.robots),
    ("GET", "/t/{code:[A-Za-z0-9_-]{1,40}}", "township", pages.township),
    ("GET", f"/v/{REF}", "village", pages.village),
    ("GET", f"/v/{QUARTER}", "quarter", pages.quarter),
    ("GET", f"/v/{QUARTER}/poster-{SIZE}", "quarter-poster", posters.quarter_poster),
    ("GET", f"/v/{QUARTER}/poster-{SIZE}.pdf", "quarter-poster.pdf", posters.quarter_pdf),
    ("GET", f"/v/{NOTICE}", "notice", pages.notice),
    ("GET", f"/v/{NOTICE}/poster-{SIZE}", "poster", posters.notice_poster),
    ("GET", f"/v/{NOTICE}/poster-{SIZE}.pdf", "poster.pdf", posters.notice_pdf),
    ("GET", f"/v/{NOTICE}/{{kind:[fp]}}/{{file:\\d{{1,10}}}}", "file", pages.notice_file),
    ("GET", "/app", "app", miniapp.page),
    ("POST", "/app/me", "app-me", miniapp.mine),
    *console.ROUTES,  # the township console (web/console/pages.py): signed-in inspectors only
    *console_app.ROUTES,  # signing in to it from a Mini App (web/console/app.py)
    *console_photos.ROUTES,  # its inspections' photos (web/console/photos.py)
)
SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; " \
      "form-action 'self'; frame-ancestors {ancestors}"
TELEGRAM_FRAMES = "https://web.telegram.org https://*.telegram.org"  # Telegram Web shows Mini Apps in a frame


def _page_route(request: web.Request) -> str | None:
    """The page's route name; "" for an address no route knows; None for a route that is not a page."""
    route = request.match_info.route
    name = route.name or ""
    if name.startswith(PAGE):
        return name.removeprefix(PAGE)
    return "" if request.match_info.http_exception is not None else None


@web.middleware
async def manners(request: web.Request, handler: Handler) -> web.StreamResponse:
    name = _page_route(request)
    if name is None:
        return await handler(request)
    deps = request.app[DEPS]
    cost = PDF_COST if name.endswith(".pdf") else 0 if name == "static" else PAGE_COST  # a page's stylesheet is free
    if cost and not await deps.rate_limits.take(client_address(request, deps.trusted_proxies), cost):
        refused = _error(request, 429)
        refused.headers["Retry-After"] = str(deps.rate_limits.retry_after())
        return _secured(refused, name)
    response: web.StreamResponse
    try:
        with off_the_loop():  # SQLite's work for a page runs in aiosqlite's thread, never holding up updates
            response = await handler(request)
    except (DomainError, web.HTTPNotFound):  # no such board, notice or quarter, or not a public one
        response = _error(request, 404)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("page %s failed", name or "?")  # the route's name, not its address: a key may be in it
        response = _error(request, 500)
    return _secured(response, name)


def _error(request: web.Request, status: int) -> web.Response:
    text = views.error(pages.ctx_of(request), status)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


def _secured(response: web.StreamResponse, name: str) -> web.StreamResponse:
    response.headers.update(SECURITY)
    ancestors = TELEGRAM_FRAMES if name.startswith("app") else "'none'"
    response.headers["Content-Security-Policy"] = CSP.format(ancestors=ancestors)
    return response


def add_pages(app: web.Application, deps: WebDeps) -> web.Application:
    """The board's routes, static files and manners, added to `app` (a new one or the webhook's)."""
    app[DEPS] = deps
    app.middlewares.append(manners)
    for method, path, name, handler in ROUTES:
        app.router.add_route(method, path, handler, name=PAGE + name)
    app.router.add_static("/static", STATIC, name=PAGE + "static", append_version=False)
    return app


def build_web_app(deps: WebDeps) -> web.Application:
    return add_pages(web.Application(), deps)
