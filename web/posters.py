"""The printable posters: a notice's, and a quarter's board, as HTML for the browser's print and as PDF."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from web import views
from web.deps import DEPS, Ctx, WebDeps
from web.http import conditional, validators
from web.links import Links
from web.pages import ctx_of, html, notice_id


async def notice_poster(request: web.Request) -> web.Response:
    page = await views.notice_poster(ctx_of(request), request.match_info["ref"], notice_id(request),
                                     request.match_info["size"])
    return html(request, page)


async def notice_pdf(request: web.Request) -> web.Response:
    size = request.match_info["size"]
    page = await views.notice_poster(ctx_of(request), request.match_info["ref"], notice_id(request), size,
                                     screen=False)
    return await _pdf(request, page, f"notice-{notice_id(request)}-{size}.pdf")


async def quarter_poster(request: web.Request) -> web.Response:
    page = await views.quarter_poster(ctx_of(request), request.match_info["ref"], request.match_info["quarter"],
                                      request.match_info["size"])
    return html(request, page)


async def quarter_pdf(request: web.Request) -> web.Response:
    quarter, size = request.match_info["quarter"], request.match_info["size"]
    page = await views.quarter_poster(ctx_of(request), request.match_info["ref"], quarter, size, screen=False)
    return await _pdf(request, page, f"{quarter}-{size}.pdf")


async def _pdf(request: web.Request, page: views.Page, name: str) -> web.Response:
    unchanged = conditional(request, page.etag, page.changed_at)
    if unchanged is not None:
        return unchanged
    content = await request.app[DEPS].pdfs.pdf(page.etag, page.html)
    response = web.Response(body=content, content_type="application/pdf",
                            headers={"Content-Disposition": f'inline; filename="{name}"'})
    validators(response, page.etag, page.changed_at)
    if not page.indexed:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


async def printed(deps: WebDeps, ref: str, size: str, lang: str | None, now: datetime, *, notice: int | None = None,
                  quarter: str | None = None) -> bytes:
    """A poster's PDF outside a request (the bot's button, `cunwu admin poster`): the same page and cache as
    the web's; its QR code points at PUBLIC_BASE_URL, or is left out without one."""
    ctx = Ctx(deps, lang, Links(), deps.public_links(), now)
    if notice is not None:
        page = await views.notice_poster(ctx, ref, notice, size, screen=False)
    else:
        page = await views.quarter_poster(ctx, ref, quarter or "", size, screen=False)
    return await deps.pdfs.pdf(page.etag, page.html)
