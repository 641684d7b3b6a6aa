"""Split Telegram-HTML into parts that each fit in one message.

Telegram limits the text *after* entity parsing (4096 for messages, 1024 for captions)
and counts it in UTF-16 code units, so tags are free, ``&lt;`` costs one unit and an
emoji outside the BMP costs two. `split_html` cuts only between visible characters,
closes the tags open at a cut and re-opens them (same raw start tag, so attributes
such as ``href`` survive) at the start of the next part.

Where to cut, best first: a paragraph break, a line break, after sentence punctuation,
after a space, anywhere. A better kind of break wins only if it still fills at least
half of the part, so a paragraph break near the top does not produce a stub message.
A cut never separates a grapheme: combining marks, variation selectors, emoji
modifiers and tag characters stay with their base, ZWJ sequences stay whole, and
regional-indicator flags stay paired. Only when a single grapheme is longer than
the limit is it cut anyway, because the limit is a hard API error.
"""

from __future__ import annotations

import html as _html
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

# Quoted attribute values may contain ">"; only the entities Telegram knows are decoded,
# anything else (a bare "&", "&nbsp;") is literal text to Telegram and so to us.
_TOKEN = re.compile(
    r"""(?P<tag></?(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?:[^>"']|"[^"]*"|'[^']*')*>)"""
    r"|(?P<entity>&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)"
    r"|(?P<char>.)",
    re.DOTALL,
)

_ZWJ = "\u200d"
_EXTEND_FORMAT = {"\u200c", _ZWJ}  # joiners glue to what precedes them
_CJK_STOPS = set("。！？；…")
_LATIN_STOPS = set(".!?;")
_CLOSERS = set("”’」』）)】》\"'")
_PARAGRAPH, _LINE, _SENTENCE, _SPACE, _ANY = 4, 3, 2, 1, 0


@dataclass(frozen=True, slots=True)
class _Atom:
    """One tag or one visible character (a raw char or a whole entity)."""

    raw: str
    text: str = ""  # the visible character; empty for tags
    tag: str = ""  # lower-case tag name; empty for text
    closing: bool = False


def split_html(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split Telegram-HTML into valid parts of at most `limit` UTF-16 units of visible text."""
    if limit < 2:  # one astral character needs two units
        raise ValueError("limit must be at least 2")
    if visible_length(html) <= limit:
        return [html] if strip_tags(html).strip() else []
    return _Splitter(_tokenize(html), limit).parts()


def strip_tags(html: str) -> str:
    """The plain text Telegram would show: tags removed, entities decoded."""
    return "".join(atom.text for atom in _tokenize(html))


def visible_length(html: str) -> int:
    """Length of the visible text in UTF-16 code units, as Telegram counts it."""
    return _utf16_len(strip_tags(html))


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _tokenize(html: str) -> list[_Atom]:
    return [_atom(match) for match in _TOKEN.finditer(html)]


def _atom(match: re.Match[str]) -> _Atom:
    raw = match[0]
    if match["tag"]:
        return _Atom(raw, tag=match["name"].lower(), closing=raw.startswith("</"))
    if match["entity"]:
        return _Atom(raw, text=_html.unescape(raw))
    return _Atom(raw, text=raw)


def _apply_tag(stack: list[_Atom], atom: _Atom) -> None:
    """Track open tags; a closing tag pops up to its opener (tolerates sloppy nesting)."""
    if not atom.tag:
        return
    if not atom.closing:
        stack.append(atom)
        return
    for index in range(len(stack) - 1, -1, -1):
        if stack[index].tag == atom.tag:
            del stack[index:]
            return


def _is_extend(char: str) -> bool:
    """Characters that belong to the grapheme before them."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")  # incl. variation selectors
        or char in _EXTEND_FORMAT
        or 0x1F3FB <= code <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences (subdivision flags)
    )


def _is_regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def _break_allowed(prev: str, nxt: str, regional_run: int) -> bool:
    """May a part end after `prev` when `nxt` follows? `regional_run` counts regional indicators ending at prev."""
    if prev == "\r" and nxt == "\n":
        return False
    if prev == _ZWJ or _is_extend(nxt):
        return False
    # Regional indicators pair up left to right: after an odd count we are inside a flag.
    return not (_is_regional(prev) and _is_regional(nxt) and regional_run % 2 == 1)


def _break_kind(text: str, k: int) -> int:
    """How good a cut right after text[k] is."""
    char = text[k]
    before = text[k - 1] if k else ""
    if char == "\n":
        return _PARAGRAPH if text[max(0, k - 2) : k].replace("\r", "").endswith("\n") else _LINE
    if char in _CJK_STOPS or (char in _CLOSERS and before in _CJK_STOPS | _LATIN_STOPS):
        return _SENTENCE
    # ASCII stops count only next to whitespace, so "3.14" and "a?b=1" are not sentence ends.
    if char in _LATIN_STOPS and text[k + 1 : k + 2].isspace():
        return _SENTENCE
    if char.isspace():
        return _SENTENCE if before in _LATIN_STOPS else _SPACE
    return _SPACE if char == "\u200b" else _ANY


class _Splitter:
    """Greedy left-to-right splitter over a token list."""

    def __init__(self, atoms: list[_Atom], limit: int) -> None:
        self.atoms = atoms
        self.limit = limit
        # cum[i]: UTF-16 units of visible text in atoms[:i]; non-decreasing, so bisectable.
        self.cum = [0]
        for atom in atoms:
            self.cum.append(self.cum[-1] + _utf16_len(atom.text))
        self.kinds = self._break_kinds()

    def _break_kinds(self) -> dict[int, int]:
        """Map atom index -> kind of a cut right after it, for text atoms where a cut is allowed."""
        positions = [i for i, atom in enumerate(self.atoms) if atom.text]
        text = "".join(self.atoms[i].text for i in positions)
        kinds: dict[int, int] = {}
        regional_run = 0
        for k, index in enumerate(positions[:-1]):
            regional_run = regional_run + 1 if _is_regional(text[k]) else 0
            if _break_allowed(text[k], text[k + 1], regional_run):
                kinds[index] = _break_kind(text, k)
        return kinds

    def parts(self) -> list[str]:
        parts: list[str] = []
        stack: list[_Atom] = []
        start = 0
        while start < len(self.atoms):
            if parts:
                start = self._skip_whitespace(start)
            end, is_last = self._cut(start)
            part = self._render(start, end, stack, trim=not is_last)
            if strip_tags(part).strip():
                parts.append(part)
            start = end
        return parts

    def _skip_whitespace(self, start: int) -> int:
        """A part should not open with the whitespace the previous cut fell on (Telegram trims it anyway)."""
        while start < len(self.atoms) and self.atoms[start].text.isspace() and not self._glued(start + 1):
            start += 1
        return start

    def _glued(self, index: int) -> bool:
        """Is atoms[index] a mark that needs the character before it (so that one must stay)?"""
        return index < len(self.atoms) and bool(self.atoms[index].text) and _is_extend(self.atoms[index].text)

    def _cut(self, start: int) -> tuple[int, bool]:
        """Index where the part starting at `start` ends, and whether it is the last one."""
        window_end = bisect_right(self.cum, self.cum[start] + self.limit) - 1
        if window_end >= len(self.atoms):
            return len(self.atoms), True
        after = self._best_break(start, window_end)
        end = after + 1
        # Closing tags right after the cut belong to this part, so no empty <b></b> opens the next.
        while end < len(self.atoms) and self.atoms[end].closing:
            end += 1
        return end, False

    def _best_break(self, start: int, window_end: int) -> int:
        """Index of the text atom to cut after, within atoms[start:window_end]."""
        latest: dict[int, int] = {}
        for index in range(window_end - 1, start - 1, -1):
            kind = self.kinds.get(index)
            if kind is not None and kind not in latest:
                latest[kind] = index
        half = self.cum[start] + self.limit // 2
        for kind in sorted(latest, reverse=True):
            if self.cum[latest[kind] + 1] >= half:
                return latest[kind]
        if latest:
            return latest[max(latest)]
        # One grapheme longer than the limit: cutting it is the lesser evil.
        return max(i for i in range(start, window_end) if self.atoms[i].text)

    def _render(self, start: int, end: int, stack: list[_Atom], *, trim: bool) -> str:
        """Build one part; `stack` enters as the tags open at `start` and leaves as those open at `end`."""
        prefix = "".join(atom.raw for atom in stack)
        keep = self._trimmed_end(start, end) if trim else end
        body = []
        for index in range(start, end):
            atom = self.atoms[index]
            _apply_tag(stack, atom)
            if index < keep or atom.tag:
                body.append(atom.raw)
        suffix = "".join(f"</{atom.tag}>" for atom in reversed(stack))
        return prefix + "".join(body) + suffix

    def _trimmed_end(self, start: int, end: int) -> int:
        """Text atoms at or after the returned index are trailing whitespace (tags are kept anyway)."""
        keep = end
        for index in range(end - 1, start - 1, -1):
            atom = self.atoms[index]
            if atom.closing:
                continue
            if not atom.text.isspace():  # an opening tag ("") or a visible character
                break
            keep = index
        return keep
