"""The pages' words and addresses as small tables: both languages say the same things, periods and days read
as people write them, every address has one form, and the client's address is read only from trusted hops."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from web.http import client_address
from web.links import Links
from web.texts import HERE, WebTexts, day_words, period_words


def test_both_languages_have_the_same_words_and_templates() -> None:
    texts = WebTexts()
    assert texts.strings["zh"].keys() == texts.strings["en"].keys()
    templates = {lang: {p.name for p in (HERE / "templates" / lang).glob("*.j2")} for lang in ("zh", "en")}
    assert templates["zh"] == templates["en"] and "village.j2" in templates["zh"]


@pytest.mark.parametrize(("code", "zh", "en"), [
    ("2026Q3", "2026年第三季度", "Q3 2026"),
    ("2026Q1", "2026年第一季度", "Q1 2026"),
    ("2026-03", "2026年3月", "March 2026"),
    ("2026", "2026年度", "2026"),
    (None, "", ""),
    ("sometime", "sometime", "sometime"),  # not a period code: shown as it was written
])
def test_periods_in_words(code: str | None, zh: str, en: str) -> None:
    assert (period_words(code, "zh"), period_words(code, "en")) == (zh, en)


def test_days_in_words() -> None:
    assert day_words(date(2026, 4, 3), "zh") == "2026年4月3日" and day_words(date(2026, 4, 3), "en") == "3 April 2026"


def test_every_address_has_one_form_served_or_as_files() -> None:
    served, files = Links("https://board.example.org"), Links("file:///tmp/b", files=True)
    assert served.notice("xinglong", 12) == "https://board.example.org/v/xinglong/n/12"
    assert served.in_lang("en", "zh").notice("xinglong", 12) == "https://board.example.org/v/xinglong/n/12?lang=en"
    assert served.in_lang("zh", "zh").village("xinglong") == "https://board.example.org/v/xinglong"
    assert served.poster("k3y_-", 12, "a3", pdf=True) == "https://board.example.org/v/k3y_-/n/12/poster-a3.pdf"
    assert served.app("xinglong") == "https://board.example.org/app?v=xinglong"
    assert files.village("xinglong") == "file:///tmp/b/v/xinglong/index.html"
    assert files.in_lang("en", "zh").notice("xinglong", 12) == "file:///tmp/b/v/xinglong/n/12.en.html"
    assert files.home() == "file:///tmp/b/index.html" and Links().quarter("x", "2026Q2") == "/v/x/q/2026Q2"


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("203.0.113.5", "", "203.0.113.5"),
    ("203.0.113.5", "198.51.100.7", "203.0.113.5"),  # an untrusted peer cannot name another address
    ("127.0.0.1", "198.51.100.7", "198.51.100.7"),  # nginx on this machine names the client
    ("127.0.0.1", "10.9.9.9, 198.51.100.7", "198.51.100.7"),  # the nearest hop nginx saw, not what the client sent
    ("127.0.0.1", "198.51.100.7, 127.0.0.1", "198.51.100.7"),
    ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ("127.0.0.1", "", "127.0.0.1"),
])
def test_the_client_address_behind_a_trusted_proxy(peer: str, forwarded: str, expected: str) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("GET", "/", headers=headers, transport=_Transport(peer))
    assert client_address(request, frozenset({"127.0.0.1", "::1"})) == expected


class _Transport:
    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.peer, 40000) if name == "peername" else default


def test_no_page_names_a_script_or_style_from_elsewhere() -> None:
    """The pages load nothing from another site (a cheap phone, an in-app browser, no tracking)."""
    for path in Path(HERE / "templates").rglob("*.j2"):
        text = path.read_text(encoding="utf-8")
        assert "src=\"http" not in text and "href=\"http" not in text.replace('href="{{', ""), path
