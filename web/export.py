"""A village's board as a folder of files (the demo's: `make demo` must end without waiting for a person):
the pages in both languages, each notice's poster as HTML and PDF, the quarters' boards, and the stylesheets,
linking to each other as files. The same views as the served pages make them (web/views.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from services.board import public
from services.board.visibility import board_by_code
from web import views
from web.deps import Ctx, WebDeps
from web.links import Links
from web.texts import LANGUAGES

STATIC = Path(__file__).parent / "static"
Write = Callable[[str, str | bytes], None]


async def export_board(deps: WebDeps, folder: Path, village_code: str) -> Path:
    """Writes the files; returns the village board's page (in the village's language)."""
    folder = folder.resolve()
    links = Links(folder.as_uri(), files=True)
    shutil.copytree(STATIC, folder / "static", dirs_exist_ok=True)
    async with deps.sessions() as session:
        board = await board_by_code(session, village_code)
        data = await public.village_board(session, deps.policy, board, deps.now())
        notices = {line.id for group in data.quarters for klass in group.classes for line in klass.notices}
        for notice_id in list(notices):
            shown = await public.notice_page(session, deps.policy, board, notice_id, deps.now())
            notices |= {version.id for version in shown.history}
    quarters = [group.quarter for group in data.quarters]

    def write(url: str, content: str | bytes) -> None:
        path = folder / url.removeprefix(links.base + "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    for lang in LANGUAGES:
        ctx = Ctx(deps, lang, links, links, deps.now())
        here = links.in_lang(lang, board.village.language)
        write(here.home(), (await views.index(ctx)).html)
        write(here.township(board.township.code), (await views.township(ctx, board.township.code)).html)
        write(here.village(board.ref), _html(await views.village(ctx, board.ref)))
        for quarter in quarters:
            write(here.quarter(board.ref, quarter), _html(await views.quarter(ctx, board.ref, quarter)))
            write(here.quarter_poster(board.ref, quarter), (await views.quarter_poster(
                ctx, board.ref, quarter, "a4")).html)
        for notice_id in sorted(notices):
            write(here.notice(board.ref, notice_id), _html(await views.notice(ctx, board.ref, notice_id)))
            await _poster(ctx, here, write, board.ref, notice_id, pdf=lang == board.village.language)
    for quarter in quarters:
        ctx = Ctx(deps, None, links, links, deps.now())
        page = await views.quarter_poster(ctx, board.ref, quarter, "a4", screen=False)
        write(links.quarter_poster(board.ref, quarter, pdf=True), await deps.pdfs.pdf(page.etag, page.html))
    return folder / links.village(board.ref).removeprefix(links.base + "/")


async def _poster(ctx: Ctx, here: Links, write: Write, ref: str, notice_id: int, *, pdf: bool) -> None:
    """The version in force has a poster (HTML, and PDF once); a corrected or retracted one has none."""
    try:
        page = await views.notice_poster(ctx, ref, notice_id, "a4")
    except public.BoardNotFound:
        return
    write(here.poster(ref, notice_id), page.html)
    if pdf:
        printed = await views.notice_poster(ctx, ref, notice_id, "a4", screen=False)
        write(here.poster(ref, notice_id, pdf=True), await ctx.deps.pdfs.pdf(printed.etag, printed.html))


def _html(page: views.Page | views.Unchanged) -> str:
    assert isinstance(page, views.Page)  # views.never: an export always renders
    return page.html
