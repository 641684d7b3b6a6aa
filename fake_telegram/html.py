"""Telegram's HTML parse_mode: turn sent HTML into (plain text, entities) or fail like Telegram.

Offsets and lengths are in UTF-16 code units, as in the Bot API; error messages quote UTF-8 byte offsets,
as Telegram's own parser does.
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_OTHER_TAGS = {"a", "span", "blockquote", "tg-emoji"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTRIBUTE = re.compile(r"([^\s=>/]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_MARKUP = re.compile(r"[&<]")
_HTML_ENTITY = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});")


class HtmlError(ValueError):
    """The part after "Bad Request: can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram trims surrounding whitespace and moves the entities with the text."""
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    stripped = text.strip()
    total = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(int(entity["offset"]) - lead, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Raise HtmlError for anything Telegram rejects."""
    return _Parser(source).run()


@dataclass
class _Open:
    tag: str
    entity: Entity | None
    offset: int


@dataclass
class _Parser:
    source: str
    pos: int = 0
    out: list[str] = field(default_factory=list)
    utf16: int = 0
    stack: list[_Open] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)

    def run(self) -> tuple[str, list[Entity]]:
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "&":
                self._entity()
            elif char == "<":
                self._tag()
            else:  # a run of plain text up to the next entity or tag, emitted at once
                end = _MARKUP.search(self.source, self.pos)
                stop = end.start() if end else len(self.source)
                self._emit(self.source[self.pos : stop])
                self.pos = stop
        if self.stack:
            raise HtmlError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.out), self.entities

    def _byte_offset(self) -> int:
        return len(self.source[: self.pos].encode("utf-8"))

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.utf16 += utf16_len(text)

    def _entity(self) -> None:
        match = _HTML_ENTITY.match(self.source, self.pos)
        decoded = _decode_entity(match.group(1)) if match else None
        if match is None or decoded is None:
            # Telegram clients must escape a literal "&" as &amp;; this fake is strict about it.
            raise HtmlError(f"Unsupported HTML entity at byte offset {self._byte_offset()}")
        self._emit(decoded)
        self.pos = match.end()

    def _tag(self) -> None:
        if end := _END_TAG.match(self.source, self.pos):
            self._close(end.group(1).lower())
            self.pos = end.end()
        elif start := _START_TAG.match(self.source, self.pos):
            self._open(start.group(1).lower(), _attributes(start.group(2)))
            self.pos = start.end()
        else:
            word = re.match(r"</?([a-zA-Z0-9-]*)", self.source[self.pos :])
            name = word.group(1) if word else ""
            where = self._byte_offset()
            if name and self.source.find(">", self.pos) == -1:
                raise HtmlError(f"Unclosed start tag at byte offset {where}")
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {where}')

    def _open(self, tag: str, attributes: dict[str, str]) -> None:
        if tag not in _SIMPLE_TAGS and tag not in _OTHER_TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        if tag == "code" and self._sets_pre_language(attributes):
            self.stack.append(_Open(tag, None, self.utf16))
            return
        self.stack.append(_Open(tag, self._entity_for(tag, attributes), self.utf16))

    def _sets_pre_language(self, attributes: dict[str, str]) -> bool:
        """<pre><code class="language-x"> gives the pre entity a language instead of a nested code entity."""
        language = attributes.get("class", "")
        parent = self.stack[-1] if self.stack else None
        if not language.startswith("language-") or parent is None or parent.tag != "pre":
            return False
        if parent.entity is not None and parent.offset == self.utf16:
            parent.entity["language"] = language.removeprefix("language-")
            return True
        return False

    def _entity_for(self, tag: str, attributes: dict[str, str]) -> Entity | None:
        if tag in _SIMPLE_TAGS:
            return {"type": _SIMPLE_TAGS[tag]}
        if tag == "a":
            url = attributes.get("href", "")
            return {"type": "text_link", "url": url} if url else None
        if tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset()}')
            return {"type": "spoiler"}
        if tag == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attributes else "blockquote"}
        emoji_id = attributes.get("emoji-id")
        if not emoji_id:
            raise HtmlError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {self._byte_offset()}')
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}

    def _close(self, tag: str) -> None:
        where = self._byte_offset()
        if not self.stack:
            raise HtmlError(f"Unexpected end tag at byte offset {where}")
        top = self.stack.pop()
        if top.tag != tag:
            raise HtmlError(f'Unmatched end tag at byte offset {where}, expected "</{top.tag}>", found "</{tag}>"')
        if top.entity is not None and self.utf16 > top.offset:
            self.entities.append({**top.entity, "offset": top.offset, "length": self.utf16 - top.offset})


def _attributes(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw):
        value = next((group for group in match.groups()[1:] if group is not None), "")
        found[match.group(1).lower()] = html.unescape(value)
    return found


def _decode_entity(body: str) -> str | None:
    if body.startswith(("#x", "#X")):
        return _codepoint(int(body[2:], 16))
    if body.startswith("#"):
        return _codepoint(int(body[1:]))
    # Telegram knows the common named entities; the four escapes are what well-behaved bots send.
    return _NAMED_ENTITIES.get(body) or html.entities.html5.get(body + ";")


def _codepoint(value: int) -> str | None:
    return chr(value) if 0 < value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else None
