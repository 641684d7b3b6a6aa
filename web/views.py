"""Each page as a function of its address: open a session, ask a service, render the language's template.

The HTTP handlers (web/pages.py, web/posters.py, web/miniapp.py) and the demo's export (web/export.py) call
the same functions, so a page reads the same however it is reached. A page whose validators say the
client's copy is current (`fresh`) is not rendered at all: the handler answers 304.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.board import official, public
from services.board.mine import Mine
from services.board.visibility import BoardNotFound, board_by_ref
from web.deps import Ctx
from web.http import etag_of
from web.links import SIZES, Links

Fresh = Callable[[str, datetime], bool]


def never(etag: str, changed_at: datetime) -> bool:
    return False


@dataclass(frozen=True)
class Page:
    html: str
    etag: str
    changed_at: datetime
    indexed: bool = True


@dataclass(frozen=True)
class Unchanged:
    """The client's copy is current (its validators match): nothing was rendered."""

    etag: str
    changed_at: datetime


@dataclass(frozen=True)
class Speech:
    """The language a page is in, its links in that language, and how it names itself in the other."""

    lang: str
    links: Links
    other: Links


def speak(ctx: Ctx, default: str) -> Speech:
    lang = ctx.deps.texts.lang(ctx.want or default)
    other = "en" if lang == "zh" else "zh"
    return Speech(lang, ctx.links.in_lang(lang, default), ctx.links.in_lang(other, default))


def _render(ctx: Ctx, speech: Speech, template: str, other_url: str, **context: object) -> str:
    return ctx.deps.texts.render(speech.lang, template, links=speech.links, other_url=other_url, **context)


def _qr(ctx: Ctx, make: Callable[[Links], str]) -> str | None:
    return make(ctx.qr_links) if ctx.qr_links is not None else None


# --- the public pages ----------------------------------------------------------------------------------

async def index(ctx: Ctx, *, app: bool = False) -> Page:
    speech = speak(ctx, ctx.deps.texts.default_lang)
    async with ctx.deps.sessions() as session:
        townships = await public.townships(session)
    html = _render(ctx, speech, "index", speech.other.home(), townships=townships, indexed=not app, app=app,
                   app_endpoint=ctx.links.app_endpoint())
    return Page(html, etag_of(html), ctx.now)


async def township(ctx: Ctx, code: str) -> Page:
    speech = speak(ctx, ctx.deps.texts.default_lang)
    async with ctx.deps.sessions() as session:
        page = await public.township_page(session, ctx.deps.policy, code, ctx.now)
    html = _render(ctx, speech, "township", speech.other.township(code), page=page, indexed=True)
    return Page(html, etag_of(html), ctx.now)


def _etag(ctx: Ctx, speech: Speech, *parts: object) -> str:
    return etag_of(ctx.deps.texts.fingerprint, speech.lang, speech.links, ctx.qr_links, *parts)


async def village(ctx: Ctx, ref: str, fresh: Fresh = never, *, app: bool = False) -> Page | Unchanged:
    async with ctx.deps.sessions() as session:
        board = await board_by_ref(session, ref)
        speech = speak(ctx, board.village.language)
        today = ctx.deps.policy.today(board.village, ctx.now)
        changed, token = await public.village_changed_at(session, board)
        etag = _etag(ctx, speech, "village", ref, board.village.name, board.township.name, today, app, changed, token)
        if fresh(etag, changed):
            return Unchanged(etag, changed)
        data = await public.village_board(session, ctx.deps.policy, board, ctx.now)
    html = _render(ctx, speech, "village", speech.other.village(ref), b=data, indexed=board.indexed,
                   unit=ctx.deps.policy.issuing_unit(board.village), qr_url=_qr(ctx, lambda links: links.village(ref)),
                   app=app, app_endpoint=ctx.links.app_endpoint())
    return Page(html, etag, changed, board.indexed)


async def quarter(ctx: Ctx, ref: str, quarter: str, fresh: Fresh = never) -> Page | Unchanged:
    async with ctx.deps.sessions() as session:
        board = await board_by_ref(session, ref)
        speech = speak(ctx, board.village.language)
        today = ctx.deps.policy.today(board.village, ctx.now)
        changed, token = await public.village_changed_at(session, board)
        etag = _etag(ctx, speech, "quarter", ref, quarter, board.village.name, today, changed, token)
        if fresh(etag, changed):
            return Unchanged(etag, changed)
        groups = await public.quarter_lines(session, ctx.deps.policy, board, quarter, ctx.now)
    html = _render(ctx, speech, "quarter", speech.other.quarter(ref, quarter), board=board, quarter=quarter,
                   groups=groups, indexed=board.indexed, qr_url=_qr(ctx, lambda links: links.quarter(ref, quarter)))
    return Page(html, etag, changed, board.indexed)


async def notice(ctx: Ctx, ref: str, notice_id: int, fresh: Fresh = never) -> Page | Unchanged:
    async with ctx.deps.sessions() as session:
        board = await board_by_ref(session, ref)
        speech = speak(ctx, board.village.language)
        page = await public.notice_page(session, ctx.deps.policy, board, notice_id, ctx.now)
        changed = max([page.changed_at, *(p.at for p in page.proofs)])
        etag = _etag(ctx, speech, "notice", ref, notice_id, page.current, changed, len(page.proofs), board.village.name)
        if fresh(etag, changed):
            return Unchanged(etag, changed)
    html = _render(ctx, speech, "notice", speech.other.notice(ref, notice_id), p=page, indexed=board.indexed,
                   qr_url=_qr(ctx, lambda links: links.notice(ref, notice_id)))
    return Page(html, etag, changed, board.indexed)


# --- posters ------------------------------------------------------------------------------------------

def _size(size: str) -> str:
    if size not in SIZES:
        raise BoardNotFound()
    return size


async def notice_poster(ctx: Ctx, ref: str, notice_id: int, size: str, *, screen: bool = True) -> Page:
    """The printable A4 (or A3) poster of one notice; `screen` adds the line a browser shows above it."""
    async with ctx.deps.sessions() as session:
        board = await board_by_ref(session, ref)
        page = await public.notice_page(session, ctx.deps.policy, board, notice_id, ctx.now)
    if page.retraction is not None or page.successor is not None:
        raise BoardNotFound()  # only the version in force is printed
    speech = speak(ctx, board.village.language)
    changed = max([page.changed_at, *(p.at for p in page.proofs)])
    html = _render(ctx, speech, "poster", speech.other.poster(ref, notice_id, size), p=page, size=_size(size),
                   screen=screen, indexed=board.indexed, qr_url=_qr(ctx, lambda links: links.notice(ref, notice_id)))
    return Page(html, _etag(ctx, speech, "poster", ref, notice_id, size, screen, changed), changed, board.indexed)


async def quarter_poster(ctx: Ctx, ref: str, quarter: str, size: str, *, screen: bool = True) -> Page:
    async with ctx.deps.sessions() as session:
        board = await board_by_ref(session, ref)
        changed, token = await public.village_changed_at(session, board)
        groups = await public.quarter_lines(session, ctx.deps.policy, board, quarter, ctx.now)
        pages = [await public.notice_page(session, ctx.deps.policy, board, line.id, ctx.now)
                 for group in groups for line in group.notices]
        phone = await official.supervision_phone(session, board.village)
    speech = speak(ctx, board.village.language)
    html = _render(ctx, speech, "quarter_poster", speech.other.quarter_poster(ref, quarter, size), board=board,
                   quarter=quarter, pages=pages, size=_size(size), screen=screen, indexed=board.indexed,
                   unit=ctx.deps.policy.issuing_unit(board.village), phone=phone,
                   qr_url=_qr(ctx, lambda links: links.quarter(ref, quarter)))
    return Page(html, _etag(ctx, speech, "quarter-poster", ref, quarter, size, screen, changed, token), changed,
                board.indexed)


# --- the Mini App's own part, and errors --------------------------------------------------------------

def mine(ctx: Ctx, lists: Mine | None, refused: str = "") -> str:
    speech = speak(ctx, ctx.deps.texts.default_lang)
    return ctx.deps.texts.render(speech.lang, "mine", links=speech.links, m=lists, refused=refused)


def error(ctx: Ctx, status: int) -> str:
    speech = speak(ctx, ctx.deps.texts.default_lang)
    return _render(ctx, speech, "error", "", status=status, indexed=False)
