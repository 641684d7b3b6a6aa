"""QR codes as inline SVG (segno: pure Python, no image library, ~1.5 KB for a board address)."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> Markup:
    """Sized by CSS (no width or height of its own); error correction M survives a creased poster.
    segno is imported at the first code drawn (a board page or a poster), not when the web module loads."""
    import segno

    code = segno.make(url, error="m", micro=False)
    return Markup(code.svg_inline(scale=4, border=4, omitsize=True, svgclass="qr", title=url))
