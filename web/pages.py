"""The public pages' handlers: parse the address, call the page's view (web/views.py), answer with validators.
Who asks does not matter here: everything these pages show is published and screened."""

from __future__ import annotations

import mimetypes
from urllib.parse import quote, urlsplit

from aiohttp import web

from services.board import public
from services.board.visibility import BoardNotFound, board_by_ref
from web import views
from web.deps import DEPS, Ctx
from web.http import conditional, etag_of, not_modified, validators
from web.links import Links
from web.texts import LANGUAGES

INLINE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})
ROBOTS = "User-agent: *\nDisallow: /app\n"


def ctx_of(request: web.Request) -> Ctx:
    deps = request.app[DEPS]
    want = request.query.get("lang")
    base = urlsplit(deps.public_base_url).path if deps.public_base_url else ""  # served under a path prefix
    return Ctx(deps, want if want in LANGUAGES else None, Links(base), deps.public_links(request), deps.now())


def fresh(request: web.Request) -> views.Fresh:
    return lambda etag, changed_at: not_modified(request, etag, changed_at)


def html(request: web.Request, page: views.Page | views.Unchanged, *, max_age: int = 60) -> web.Response:
    if isinstance(page, views.Unchanged):
        response = web.Response(status=304)
        validators(response, page.etag, page.changed_at, max_age)
        return response
    unchanged = conditional(request, page.etag, page.changed_at, max_age)
    if unchanged is not None:
        return unchanged
    response = web.Response(text=page.html, content_type="text/html", charset="utf-8")
    validators(response, page.etag, page.changed_at, max_age)
    if not page.indexed:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.enable_compression()
    return response


def notice_id(request: web.Request) -> int:
    value = int(request.match_info["id"])  # the route admits digits only
    if not 0 < value < 2**31:
        raise BoardNotFound()
    return value


async def index(request: web.Request) -> web.Response:
    return html(request, await views.index(ctx_of(request)))


async def township(request: web.Request) -> web.Response:
    return html(request, await views.township(ctx_of(request), request.match_info["code"]))


async def village(request: web.Request) -> web.Response:
    return html(request, await views.village(ctx_of(request), request.match_info["ref"], fresh(request)))


async def quarter(request: web.Request) -> web.Response:
    page = await views.quarter(ctx_of(request), request.match_info["ref"], request.match_info["quarter"],
                               fresh(request))
    return html(request, page)


async def notice(request: web.Request) -> web.Response:
    page = await views.notice(ctx_of(request), request.match_info["ref"], notice_id(request), fresh(request))
    return html(request, page)


async def notice_file(request: web.Request) -> web.Response:
    """An attachment or posting-proof photo of a notice the public may read, fetched from Telegram."""
    ctx = ctx_of(request)
    if ctx.deps.fetch_file is None:
        raise BoardNotFound()
    async with ctx.deps.sessions() as session:
        board = await board_by_ref(session, request.match_info["ref"])
        file_id, name = await public.public_file(session, ctx.deps.policy, board, notice_id(request),
                                                 request.match_info["kind"], int(request.match_info["file"]), ctx.now)
    etag = etag_of("file", file_id)
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    content = await ctx.deps.fetch_file(file_id)
    if content is None:
        raise BoardNotFound()
    kind = mimetypes.guess_type(name)[0] or ""
    inline = kind in INLINE  # anything else (an uploaded .html or .svg, say) must never run on this site
    disposition = "inline" if inline else f"attachment; filename*=UTF-8''{quote(name)}"
    return web.Response(body=content, content_type=kind if inline else "application/octet-stream", headers={
        "ETag": etag, "Cache-Control": "public, max-age=86400", "Content-Disposition": disposition})


async def robots(request: web.Request) -> web.Response:
    return web.Response(text=ROBOTS, content_type="text/plain")
