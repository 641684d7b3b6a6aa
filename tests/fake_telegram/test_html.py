"""Telegram's HTML parse_mode as the fake applies it."""

from __future__ import annotations

import pytest

from fake_telegram.html import HtmlError, parse_html, strip_text


def test_tags_become_entities_with_utf16_offsets() -> None:
    text, entities = parse_html("😀 <b>公示 <i>名单</i></b> &lt;ok&gt; &amp; &#20844;")
    assert text == "😀 公示 名单 <ok> & 公"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},
        {"type": "italic", "offset": 6, "length": 2},
    ]


def test_links_spoilers_quotes_and_pre_language() -> None:
    source = (
        '<a href="https://x.cn/?a=1&amp;b=2">链接</a><span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>'
        '<blockquote expandable>q</blockquote><pre><code class="language-python">x = 1</code></pre>'
    )
    text, entities = parse_html(source)
    assert text == "链接stqx = 1"
    assert [entity["type"] for entity in entities] == [
        "text_link",
        "spoiler",
        "spoiler",
        "expandable_blockquote",
        "pre",
    ]
    assert entities[0]["url"] == "https://x.cn/?a=1&b=2"
    assert entities[-1]["language"] == "python"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("A & B", "Unsupported HTML entity at byte offset 2"),
        ("x</b>", "Unexpected end tag at byte offset 1"),
    ],
)
def test_rejects_what_telegram_rejects(source: str, message: str) -> None:
    with pytest.raises(HtmlError) as caught:
        parse_html(source)
    assert str(caught.value) == message


def test_strip_moves_entities_with_the_text() -> None:
    assert strip_text("  \n<b>x</b> ", [{"type": "bold", "offset": 3, "length": 8}]) == (
        "<b>x</b>",
        [{"type": "bold", "offset": 0, "length": 8}],
    )
