"""Every address of the board, in one place: pages link with it, the bot's buttons and the QR codes use it.

A board is named by its `ref` (the village's code, or a links-only village's key: services.board.visibility).
`Links` with a base URL makes absolute addresses (QR codes, Telegram buttons); without one, root-relative
paths. `files=True` names the pages of a folder of files (the demo's export), where every page is a file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

SIZES = ("a4", "a3")


@dataclass(frozen=True)
class Links:
    base: str = ""
    files: bool = False
    lang: str = ""  # the language a page links on in, when it is not the default one

    def in_lang(self, lang: str, default: str) -> Links:
        return replace(self, lang="" if lang == default else lang)

    def _page(self, path: str) -> str:
        if self.files:
            return f"{self.base}{path or '/index'}{'.' + self.lang if self.lang else ''}.html"
        return f"{self.base}{path or '/'}{'?lang=' + self.lang if self.lang else ''}"

    def _file(self, path: str) -> str:
        return f"{self.base}{path}"

    def home(self) -> str:
        return self._page("")

    def township(self, code: str) -> str:
        return self._page(f"/t/{quote(code, safe='')}")

    def village(self, ref: str) -> str:
        return self._page(f"/v/{quote(ref, safe='')}" + ("/index" if self.files else ""))

    def quarter(self, ref: str, quarter: str) -> str:
        return self._page(f"/v/{quote(ref, safe='')}/q/{quarter}")

    def notice(self, ref: str, notice_id: int) -> str:
        return self._page(f"/v/{quote(ref, safe='')}/n/{notice_id}")

    def poster(self, ref: str, notice_id: int, size: str = "a4", pdf: bool = False) -> str:
        path = f"/v/{quote(ref, safe='')}/n/{notice_id}/poster-{size}"
        return self._file(path + ".pdf") if pdf else self._page(path)

    def quarter_poster(self, ref: str, quarter: str, size: str = "a4", pdf: bool = False) -> str:
        path = f"/v/{quote(ref, safe='')}/q/{quarter}/poster-{size}"
        return self._file(path + ".pdf") if pdf else self._page(path)

    def file(self, ref: str, notice_id: int, kind: str, file_ref: int) -> str:
        """An attachment (kind "f") or a posting-proof photo ("p") of a notice."""
        return self._file(f"/v/{quote(ref, safe='')}/n/{notice_id}/{kind}/{file_ref}")

    def app(self, ref: str | None = None) -> str:
        return self._file("/app" + (f"?v={quote(ref, safe='')}" if ref else ""))

    def app_endpoint(self) -> str:
        """Where the Mini App posts its init data (never a file: the demo's export has no Mini App)."""
        return self._file("/app/me")

    def console(self, path: str = "") -> str:
        """The township console's addresses (web/console/pages.py); never files, never with ?lang."""
        return self._file("/console" + path)

    def static(self, name: str) -> str:
        return self._file(f"/static/{name}")
