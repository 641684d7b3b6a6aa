"""QR codes as inline SVG (segno: pure Python, no image library, ~1.5 KB for a board address)."""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> Markup:
    """Sized by CSS (no width or height of its own); error correction M survives a creased poster."""
    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=4, border=4, omitsize=True, svgclass="qr", title=url))
