"""An inspection's photos on the console: the picture behind a thumbnail, fetched from Telegram through the
bot by its file id (the database keeps only ids), for a signed-in inspector of the inspection's township;
any other photo id is "not found"."""

from __future__ import annotations

from aiohttp import web

from services.township import inspection_photos
from web.console.pages import CODE, PATH, signed_from, signin_needed
from web.pages import ctx_of


async def photo(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    signed = await signed_from(request, ctx)
    if signed is None:
        return signin_needed(ctx)
    async with ctx.deps.sessions() as session:
        file_id = await inspection_photos.file_of(session, signed.person, request.match_info["code"],
                                                  int(request.match_info["photo"]))
    body = await ctx.deps.fetch_file(file_id) if ctx.deps.fetch_file else None
    if body is None:
        raise web.HTTPNotFound()
    return web.Response(body=body, content_type="image/jpeg",  # Telegram re-encodes every photo as JPEG
                        headers={"Cache-Control": "private, max-age=3600"})


ROUTES = (
    ("GET", PATH + f"/t/{CODE}/photo/{{photo:\\d{{1,10}}}}.jpg", "console-photo", photo),
)
