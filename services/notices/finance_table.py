"""Finance disclosures typed on a phone as lines of "item amount".

Each line is NFKC-normalised first, so full-width digits, ``，`` ``．`` ``－`` ``￥`` and the
ideographic space become their ASCII forms. The amount is the last number on the line,
optionally signed and with ``¥`` before or ``元``/``¥`` after it; the item is the text before
it. Thousands separators must group by three ("1,2500" is refused rather than guessed),
and at most two decimals are accepted. Money is Decimal throughout, never float.

Framework-free on purpose: handlers render `TableError.errors` through the locale keys.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

MAX_ROWS = 200
WRAP_COLUMNS = 16  # an item wider than this continues on the next line
_GAP = "  "

_NUMBER_AT_END = re.compile(r"\d[\d,.]*$")
_VALID_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_MINUS_SIGNS = str.maketrans({"\u2212": "-"})  # NFKC keeps U+2212; people still type it


@dataclass(frozen=True, slots=True)
class Row:
    item: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class FinanceTable:
    rows: list[Row]

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))


class TableError(ValueError):
    """Lines that could not be read. `errors` holds every (line_no, line, reason_key), 1-based."""

    def __init__(self, line_no: int, line: str, reason_key: str, *, errors: list[tuple[int, str, str]] | None = None):
        self.errors = errors or [(line_no, line, reason_key)]
        self.line_no, self.line, self.reason_key = self.errors[0]
        super().__init__(f"line {self.line_no}: {self.reason_key}")

    @classmethod
    def from_errors(cls, errors: list[tuple[int, str, str]]) -> TableError:
        return cls(*errors[0], errors=errors)


class _LineError(Exception):
    def __init__(self, reason_key: str) -> None:
        self.reason_key = reason_key


# --- parsing ---------------------------------------------------------------------------------


def parse_table(text: str) -> FinanceTable:
    """Read all lines; raise TableError listing every bad line, or return the table."""
    rows: list[Row] = []
    errors: list[tuple[int, str, str]] = []
    filled = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not _normalise(line):
            continue
        filled += 1
        if filled == MAX_ROWS + 1:  # reported once; later lines are still checked for typos
            errors.append((line_no, line, "table.too_many_rows"))
        try:
            rows.append(parse_line(line))
        except _LineError as error:
            errors.append((line_no, line, error.reason_key))
    if not rows and not errors:
        errors.append((0, "", "table.empty"))
    if errors:
        raise TableError.from_errors(errors)
    return FinanceTable(rows)


def parse_line(line: str) -> Row:
    """One "item amount" line; raises _LineError with the reason key."""
    normal = _normalise(line)
    for suffix in ("元", "¥"):
        normal = normal.removesuffix(suffix).rstrip()
    match = _NUMBER_AT_END.search(normal)
    if match is None:
        raise _LineError("table.no_amount")
    amount = _parse_number(match[0])
    rest, negative = _peel_sign_and_currency(normal[: match.start()])
    item = " ".join(rest.split())
    if not item:
        raise _LineError("table.no_item")
    return Row(item, -amount if negative and amount else amount)


def _normalise(line: str) -> str:
    return unicodedata.normalize("NFKC", line).translate(_MINUS_SIGNS).strip()


def _parse_number(token: str) -> Decimal:
    if not _VALID_NUMBER.fullmatch(token):
        raise _LineError("table.bad_amount")
    _, _, fraction = token.partition(".")
    if len(fraction) > 2:
        raise _LineError("table.too_many_decimals")
    return Decimal(token.replace(",", ""))


def _peel_sign_and_currency(rest: str) -> tuple[str, bool]:
    """Strip a "-" and/or "¥" in front of the number (either order); report the sign."""
    negative = currency = False
    for _ in range(2):
        rest = rest.rstrip()
        if rest.endswith("¥") and not currency:
            rest, currency = rest[:-1], True
        elif rest.endswith("-") and not negative and _minus_stands_alone(rest):
            rest, negative = rest[:-1], True
    return rest, negative


def _minus_stands_alone(rest: str) -> bool:
    """A "-" glued to a word ("A-500") is a hyphen in the item, not a sign."""
    before = rest[-2:-1]
    return before in ("", "¥") or before.isspace()


# --- rendering --------------------------------------------------------------------------------


def render_table(table: FinanceTable, total_label: str = "合计") -> str:
    """Plain monospace text (the caller escapes it and wraps it in <pre>); all lines equally wide."""
    entries = [(_wrap(row.item), _money(row.amount)) for row in table.rows]
    total = (_wrap(total_label), _money(table.total))
    item_width = max(display_width(chunk) for chunks, _ in [*entries, total] for chunk in chunks)
    amount_width = max(len(amount) for _, amount in [*entries, total])
    lines = [line for entry in entries for line in _entry_lines(entry, item_width, amount_width)]
    lines.append("-" * (item_width + len(_GAP) + amount_width))
    lines.extend(_entry_lines(total, item_width, amount_width))
    return "\n".join(lines)


def display_width(text: str) -> int:
    """Terminal columns: wide/full-width characters take 2, combining and format marks 0."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _wrap(item: str) -> list[str]:
    """Greedy wrap at WRAP_COLUMNS; zero-width marks ride along with their base character."""
    chunks = [""]
    for char in item:
        if chunks[-1] and display_width(chunks[-1]) + _char_width(char) > WRAP_COLUMNS:
            chunks.append("")
        chunks[-1] += char
    return chunks


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _entry_lines(entry: tuple[list[str], str], item_width: int, amount_width: int) -> list[str]:
    """The amount sits on the first line; continuation lines are padded to the same width."""
    chunks, amount = entry
    first = _pad(chunks[0], item_width) + _GAP + amount.rjust(amount_width)
    rest = [_pad(chunk, item_width + len(_GAP) + amount_width) for chunk in chunks[1:]]
    return [first, *rest]
