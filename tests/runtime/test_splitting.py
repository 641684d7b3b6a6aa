"""bot.ui.splitting: long Telegram-HTML split into valid parts within the visible-text limit."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from html.parser import HTMLParser

import pytest

from bot.ui.splitting import CAPTION_LIMIT, MESSAGE_LIMIT, split_html, strip_tags, visible_length

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
    "tg-spoiler", "a", "code", "pre", "blockquote",
}  # fmt: skip
BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)")
ZWJ = "\u200d"
FAMILY = "👨\u200d👩\u200d👧"  # 8 UTF-16 units, one grapheme
FLAGS = "🇨🇳🇺🇸"  # two flags, 4 units each


class _Validator(HTMLParser):
    """Checks that a part is well-formed on its own: known tags, properly nested, all closed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        self.stack.pop()


def assert_valid(part: str) -> None:
    validator = _Validator()
    validator.feed(part)
    validator.close()
    assert validator.stack == [], part
    assert not BARE_AMPERSAND.search(part), "an entity was cut"
    assert "<" not in re.sub(r"<[^<>]*>", "", part), "a tag was cut"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_preserved(original_html: str, parts: list[str]) -> None:
    """No content lost or duplicated: parts appear in order, and only whitespace differs."""
    original = strip_tags(original_html)
    texts = [strip_tags(part) for part in parts]
    assert squash("".join(texts)) == squash(original)
    cursor = 0
    for text in texts:
        found = original.find(text.strip(), cursor)
        assert found >= 0, text[:40]
        cursor = found + len(text.strip())


def is_extend(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or char in "\u200c\u200d"
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def assert_clean_boundaries(parts: list[str]) -> None:
    """No grapheme (combining mark, ZWJ sequence, flag) is split between two parts."""
    texts = [strip_tags(part) for part in parts]
    for left, right in itertools.pairwise(texts):
        assert not left.endswith(ZWJ)
        assert not is_extend(right[0]), repr(right[:3])
        assert sum(0x1F1E6 <= ord(c) <= 0x1F1FF for c in left) % 2 == 0


def check(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    parts = split_html(html, limit)
    for part in parts:
        assert_valid(part)
        assert 0 < visible_length(part) <= limit
        assert strip_tags(part).strip()
    assert_preserved(html, parts)
    return parts


# --- measuring ---------------------------------------------------------------------------


def test_visible_length_counts_utf16_units_and_entities_once() -> None:
    assert visible_length("<b>a&amp;b</b>") == 3
    assert visible_length('<a href="x?a=1&amp;b=2">链接</a>') == 2
    assert visible_length("😀") == 2
    assert visible_length(FAMILY) == 8
    assert visible_length("&#128512;&#x41;") == 3


def test_strip_tags_unescapes_only_telegram_entities() -> None:
    assert strip_tags("<i>1 &lt; 2 &amp;&amp; &quot;x&quot; &gt; 0</i>") == '1 < 2 && "x" > 0'
    assert strip_tags("&nbsp;") == "&nbsp;"  # unknown to Telegram, so literal


def test_short_text_is_returned_unchanged_and_blank_text_dropped() -> None:
    html = "<b>公告</b>\n\n  正文 &amp; 附件  "
    assert split_html(html) == [html]
    assert split_html(" \n<b> </b>\n") == []
    assert split_html("") == []


def test_limit_must_fit_one_astral_character() -> None:
    with pytest.raises(ValueError):
        split_html("abc", 1)


# --- where to cut --------------------------------------------------------------------------


def test_long_chinese_body_cuts_at_paragraph_breaks() -> None:
    rng = random.Random(1)
    paragraphs = [
        "".join(rng.choice("村务公开财务收支情况说明") for _ in range(rng.randint(150, 600))) + "。" for _ in range(60)
    ]
    body = "\n\n".join(paragraphs)
    assert len(body) > 20_000
    parts = check(body)
    assert len(parts) >= 5
    for part in parts:
        assert part.startswith(tuple(p[:10] for p in paragraphs))  # every part starts a paragraph
        assert part.endswith("。")


def test_line_breaks_preferred_over_sentences_and_spaces() -> None:
    html = ("第一句。第二句 还有" * 30 + "\n") * 40
    for part in check(html, 1000)[:-1]:
        assert strip_tags(part).endswith("还有")


def test_sentence_punctuation_preferred_over_space() -> None:
    html = "这是一个句子。 Another one here! " * 200
    for part in check(html, 500)[:-1]:
        assert part.endswith(("。", "!"))


def test_decimal_point_is_not_a_sentence_end() -> None:
    html = "合计 3.14 元" + "x" * 20 + "金额12.50元" + "y" * 30
    parts = check(html, 30)
    assert not any(strip_tags(p).endswith(("3.", "12.")) for p in parts)


def test_single_line_without_breaks_is_hard_cut() -> None:
    html = "字" * 10_000
    parts = check(html)
    assert [visible_length(p) for p in parts] == [4096, 4096, 1808]
    assert "".join(parts) == html


def test_caption_limit() -> None:
    parts = check("说明文字，" * 500, CAPTION_LIMIT)
    assert all(visible_length(p) <= 1024 for p in parts)


# --- tags and entities at the cut ---------------------------------------------------------


def test_nested_tags_closed_and_reopened_across_cut() -> None:
    html = "<b>粗体<i>" + "斜体" * 3000 + "</i>尾</b>"
    parts = check(html)
    assert len(parts) == 2
    assert parts[0].startswith("<b>粗体<i>") and parts[0].endswith("</i></b>")
    assert parts[1].startswith("<b><i>") and parts[1].endswith("</i>尾</b>")


def test_link_reopened_with_same_href() -> None:
    href = '<a href="https://example.cn/x?a=1&amp;b=2">'
    html = "前言 " + href + "链接文字 " * 1500 + "</a> 后记"
    parts = check(html)
    assert len(parts) >= 2
    for part in parts[1:]:
        if "链接" in part:
            assert part.startswith(href)
    assert all(part.count("<a ") == part.count("</a>") for part in parts)


def test_span_spoiler_and_pre_code_attributes_survive() -> None:
    html = '<pre><code class="language-text">' + "行\n" * 3000 + '</code></pre><span class="tg-spoiler">秘</span>'
    parts = check(html, 1000)
    assert all(p.startswith('<pre><code class="language-text">') for p in parts[:-1])


@pytest.mark.parametrize("offset", range(4090, 4100))
@pytest.mark.parametrize("entity", ["&amp;", "&lt;", "&gt;", "&quot;", "&#128512;"])
def test_entities_near_cut_are_never_split(offset: int, entity: str) -> None:
    html = "x" * offset + entity + "y" * 100 + entity + "z" * 5000
    parts = check(html)
    assert squash("".join(strip_tags(p) for p in parts)) == squash(strip_tags(html))


def test_tag_with_gt_inside_attribute_is_one_token() -> None:
    html = "a" * 10 + '<a href="x?q=a>b">' + "b" * 30 + "</a>"
    parts = check(html, 20)
    assert parts[1].startswith('<a href="x?q=a>b">')


def test_opening_tag_at_cut_goes_to_next_part_and_closing_tag_stays() -> None:
    html = "<b>" + "a" * 10 + "</b> <i>" + "b" * 10 + "</i>"
    assert split_html(html, 12) == ["<b>" + "a" * 10 + "</b>", "<i>" + "b" * 10 + "</i>"]


# --- graphemes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", range(4080, 4097))
def test_emoji_zwj_sequences_and_flags_stay_whole(offset: int) -> None:
    html = "a" * offset + FAMILY + FLAGS + "❤️" + "👍🏽" + "é" + "b" * 50
    parts = check(html)
    assert_clean_boundaries(parts)
    assert "".join(strip_tags(p) for p in parts) == strip_tags(html)


def test_astral_character_at_the_limit_moves_to_next_part() -> None:
    parts = check("a" * 4095 + "😀" + "b")
    assert parts[0] == "a" * 4095
    assert parts[1] == "😀b"


def test_odd_run_of_regional_indicators_pairs_from_the_left() -> None:
    html = "🇨🇳🇺🇸🇯" * 50
    parts = check(html, 9)
    texts = [strip_tags(p) for p in parts]
    assert "".join(texts) == html
    assert_clean_boundaries([p for p in parts if not p.startswith("🇯")])


def test_rtl_and_zero_width_characters() -> None:
    html = ("שָׁלוֹם \u200fمرحبا\u200e zero\u200bwidth\u2060join 村务" + "\u200b") * 400
    parts = check(html, 300)
    assert_clean_boundaries(parts)


def test_grapheme_longer_than_limit_is_cut_anyway() -> None:
    html = "e" + "\u0301" * 50
    parts = check(html, 10)
    assert all(visible_length(p) <= 10 for p in parts)
    assert "".join(parts) == html


# --- property-style ----------------------------------------------------------------------------

_PIECES = [
    "村", "务", "公开", "。", "！", "；", "Hello", "world", ".", "?", " ", " ", "\u3000", "\n", "\n\n",
    "&amp;", "&lt;", "&gt;", "&quot;", "&#128512;", "😀", FAMILY, "🇨🇳", "❤️", "👍🏽", "é",
    "\u200f", "\u200b", "مرحبا", "12.50",
]  # fmt: skip
_WRAPPERS = [
    ("<b>", "</b>"), ("<i>", "</i>"), ("<u>", "</u>"), ("<s>", "</s>"), ("<code>", "</code>"),
    ('<a href="https://x.cn/?a=1&amp;b=2">', "</a>"), ('<span class="tg-spoiler">', "</span>"),
    ("<blockquote>", "</blockquote>"), ("<tg-spoiler>", "</tg-spoiler>"),
]  # fmt: skip


def _random_html(rng: random.Random, depth: int = 0) -> str:
    chunks = []
    for _ in range(rng.randint(1, 15)):
        if depth < 3 and rng.random() < 0.2:
            opener, closer = rng.choice(_WRAPPERS)
            chunks.append(opener + _random_html(rng, depth + 1) + closer)
        else:
            chunks.append(rng.choice(_PIECES))
    return "".join(chunks)


def test_random_inputs_keep_limits_validity_and_content() -> None:
    rng = random.Random(20240601)
    for _ in range(500):
        html = "".join(_random_html(rng) for _ in range(rng.randint(1, 4)))
        limit = rng.choice([2, 3, 5, 8, 13, 16, 40, 100, 1000])
        parts = check(html, limit)
        if limit >= 16:  # every grapheme in the pool fits, so none may be split
            assert_clean_boundaries(parts)
