"""Posters as PDF with WeasyPrint: HTML and print CSS in, a PDF with the Chinese fonts embedded out.

WeasyPrint (and its Pango, HarfBuzz and fontconfig) is imported on the first poster, not at start: it costs
~40 MB and two seconds, and most processes never print. It renders in a worker thread, one poster at a
time (a second of CPU each), and the last few PDFs are kept by their ETag. Pages reach no network while
rendering: the only resources a poster loads are this package's stylesheets; its QR code is inline SVG.
The Chinese faces come from the system's fonts-noto-cjk (fontconfig); the Makefile's set-up installs it.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

STATIC = Path(__file__).parent / "static"


def _static_fetcher() -> Any:
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        """Serves /static/<name> from this package; refuses every other address (no SSRF, no waiting)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url).path.split("/")
            name = parts[-1]
            if len(parts) < 2 or parts[-2] != "static" or not (STATIC / name).is_file() or "/" in name:
                raise ValueError(f"posters load only their own stylesheets, not {url[:80]}")
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, (STATIC / name).read_bytes(), {"Content-Type": kind})

    return StaticOnly()


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=_static_fetcher()).write_pdf())


class PdfMaker:
    """One rendering at a time; the newest `keep` PDFs by key (an ETag: it changes whenever the page does)."""

    def __init__(self, keep: int = 16) -> None:
        self.keep = keep
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._one = asyncio.Lock()

    async def pdf(self, key: str, html: str) -> bytes:
        async with self._one:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            made = await asyncio.to_thread(render_pdf, html)
            self._cache[key] = made
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
            return made
