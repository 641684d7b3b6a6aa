"""What the pages need, built once by the process that serves them (bot/process/pages.py) and handed in:
web/ reads no settings and imports nothing of the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.policy import Policy
from web.http import RateLimits
from web.links import Links
from web.pdf import PdfMaker
from web.texts import WebTexts

FetchFile = Callable[[str], Awaitable[bytes | None]]  # a Telegram file id -> its bytes (None: not to be had)


@dataclass
class WebDeps:
    sessions: async_sessionmaker[AsyncSession]
    policy: Policy
    now: Callable[[], datetime]
    texts: WebTexts
    public_base_url: str | None = None
    bot_token: str = ""  # the Mini App's init data is signed with a key derived from it; never logged
    fetch_file: FetchFile | None = None
    rate_limits: RateLimits = field(default_factory=lambda: RateLimits(120))
    trusted_proxies: frozenset[str] = frozenset({"127.0.0.1", "::1"})
    app_max_age: int = 86_400
    pdfs: PdfMaker = field(default_factory=PdfMaker)
    wake: Callable[[], None] = field(default=lambda: None)  # the console queued messages: deliver them now
    county: frozenset[int] = frozenset()  # Telegram ids of the county-level admins (ADMIN_IDS): the county's view

    def public_links(self, request: web.Request | None = None) -> Links | None:
        """Absolute addresses for QR codes: the configured public address, else the one the page was asked
        for by; None when neither is known (a poster made by the bot without PUBLIC_BASE_URL)."""
        if self.public_base_url:
            return Links(self.public_base_url)
        if request is not None:
            return Links(f"{request.scheme}://{request.host}")
        return None


DEPS = web.AppKey("cunwu.web.deps", WebDeps)


@dataclass(frozen=True)
class Ctx:
    """One page being asked for: the language asked for (None: the village's own), how pages link (before
    the language is chosen), where QR codes point, and the time."""

    deps: WebDeps
    want: str | None
    links: Links
    qr_links: Links | None
    now: datetime
