"""Finance disclosures typed on a phone as lines of "item amount".

Each line is NFKC-normalised first, so full-width digits, ``，`` ``．`` ``－`` ``￥`` and the
ideographic space become their ASCII forms. The amount is the last number on the line,
optionally signed and with ``¥`` before or ``元``/``¥`` after it; the item is the text before
it. Thousands separators must group by three ("1,2500" is refused rather than guessed),
and at most two decimals are accepted. Money is Decimal throughout, never float.

A village statement has five columns instead: "item opening income spending closing" (four amounts at the
end of the line, separated by spaces). The first line decides which kind the table is. Each statement row is
checked (closing = opening + income - spending), and a line whose item is a total word (合计, 总计, Total)
is checked against the column sums and not kept as a row. Errors name the line.

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
class StatementRow:
    """One account or item of a village statement."""

    item: str
    opening: Decimal
    income: Decimal
    spending: Decimal
    closing: Decimal

    @property
    def amounts(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return self.opening, self.income, self.spending, self.closing


STATEMENT_COLUMNS = ("opening", "income", "spending", "closing")
TOTAL_WORDS = frozenset({"合计", "总计", "合 计", "total", "totals"})


@dataclass(frozen=True, slots=True)
class FinanceTable:
    rows: list[Row]
    statement: tuple[StatementRow, ...] = ()  # a five-column statement (then `rows` is empty)

    @property
    def total(self) -> Decimal:
        return sum((row.amount for row in self.rows), Decimal(0))

    @property
    def totals(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """The statement's column sums: opening, income, spending, closing."""
        sums = [sum((row.amounts[i] for row in self.statement), Decimal(0)) for i in range(4)]
        return sums[0], sums[1], sums[2], sums[3]


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
    """Read all lines; raise TableError listing every bad line, or return the table. A line ending in two or
    more space-separated amounts makes the table a five-column statement (an "item amount" line has one)."""
    if any(_trailing_amounts(_normalise(line)) >= 2 for line in text.splitlines()):
        return _parse_statement(text)
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


def _parse_statement(text: str) -> FinanceTable:
    rows: list[StatementRow] = []
    errors: list[tuple[int, str, str]] = []
    given_totals: list[tuple[int, str, tuple[Decimal, ...]]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        normal = _normalise(line)
        if not normal:
            continue
        if len(rows) == MAX_ROWS:
            errors.append((line_no, line, "table.too_many_rows"))
            break
        try:
            found = _amounts_at_end(normal, strict=True)
        except _LineError as error:
            errors.append((line_no, line, error.reason_key))
            continue
        if found is None:
            errors.append((line_no, line, "table.statement_columns"))
            continue
        item, amounts = found
        if item.lower() in TOTAL_WORDS:
            given_totals.append((line_no, line, amounts))
            continue
        row = StatementRow(item, *amounts)
        if row.opening + row.income - row.spending != row.closing:
            errors.append((line_no, line, "table.wrong_closing"))
        rows.append(row)
    table = FinanceTable([], tuple(rows))
    for line_no, line, amounts in given_totals:
        if rows and tuple(amounts) != table.totals:
            errors.append((line_no, line, "table.wrong_total"))
    if not rows and not errors:
        errors.append((0, "", "table.empty"))
    if errors:
        raise TableError.from_errors(sorted(errors))
    return table


def _amounts_at_end(normal: str, *, strict: bool = False) -> tuple[str, tuple[Decimal, ...]] | None:
    """("item", four amounts) when the line ends in four space-separated amounts, else None. `strict`: a
    line ending in an amount with fewer than four, or a misspelt amount among the last four, raises."""
    tokens = normal.split()
    amounts: list[Decimal] = []
    for token in reversed(tokens[-4:]):
        try:
            amounts.append(_token_amount(token))
        except _LineError:
            if strict and len(tokens) >= 5 and (amounts or any(ch.isdigit() for ch in token)):
                raise _LineError("table.bad_amount") from None  # text or a misspelt number in an amount cell
            break
    if len(amounts) < 4 or len(tokens) < 5:
        if strict and amounts:
            raise _LineError("table.statement_columns")
        return None
    return " ".join(tokens[:-4]), tuple(reversed(amounts))


def _trailing_amounts(normal: str) -> int:
    count = 0
    for token in reversed(normal.split()[1:]):
        try:
            _token_amount(token)
        except _LineError:
            break
        count += 1
    return count


def _token_amount(token: str) -> Decimal:
    token = token.removesuffix("元").removeprefix("¥").removesuffix("¥")
    negative = token.startswith("-")
    number = _parse_number(token.removeprefix("-").removeprefix("¥"))
    return -number if negative else number


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


def render_table(table: FinanceTable, total_label: str = "合计", headings: tuple[str, ...] = ()) -> str:
    """Plain monospace text (the caller escapes it and wraps it in <pre>); all lines equally wide.
    `headings`: a statement's five column names (item, opening, income, spending, closing)."""
    if table.statement:
        return render_statement(table, total_label, headings or ("项目", "期初", "收入", "支出", "期末"))
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


LONGEST_WHOLE_WORD = 14  # a narrow word up to this wide stays whole even in a narrower column ("Infrastructure")


def _wrap(item: str, columns: int = WRAP_COLUMNS) -> list[str]:
    """Greedy wrap at `columns`, between words: a run of narrow letters and digits ("Transfers") stays whole
    unless it alone is wider than a line; wide (CJK) characters may break anywhere, as Chinese text does;
    zero-width marks ride along with their base character; spaces at a break are dropped."""
    chunks = [""]
    for word in _words(item):
        width = display_width(word)
        if chunks[-1] and display_width(chunks[-1]) + width > columns:
            chunks.append("")
            if word.isspace():
                continue
        if width <= max(columns, LONGEST_WHOLE_WORD):  # the column widens for it rather than cut it
            chunks[-1] += word
            continue
        for char in word:  # a word longer than that is cut where it must be
            if chunks[-1] and display_width(chunks[-1]) + _char_width(char) > columns:
                chunks.append("")
            chunks[-1] += char
    return [chunk.rstrip() or chunk for chunk in chunks]


def _words(text: str) -> list[str]:
    """Spaces, runs of narrow non-space characters, and single wide characters (with their marks)."""
    words: list[str] = []
    for char in text:
        width = _char_width(char)
        previous = words[-1] if words else ""
        joins = previous and (width == 0 or (width == 1 and not char.isspace() and _narrow_word(previous))
                              or (char.isspace() and previous.isspace()))
        if joins:
            words[-1] += char
        else:
            words.append(char)
    return words


def _narrow_word(word: str) -> bool:
    return not word.isspace() and all(_char_width(char) < 2 for char in word)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _entry_lines(entry: tuple[list[str], str], item_width: int, amount_width: int) -> list[str]:
    """The amount sits on the first line; continuation lines are padded to the same width."""
    chunks, amount = entry
    first = _pad(chunks[0], item_width) + _GAP + amount.rjust(amount_width)
    rest = [_pad(chunk, item_width + len(_GAP) + amount_width) for chunk in chunks[1:]]
    return [first, *rest]


STATEMENT_WRAP = 8  # columns of a statement's item before it continues on the next line (five columns on a phone)


def render_statement(table: FinanceTable, total_label: str, headings: tuple[str, ...]) -> str:
    """The statement as an aligned monospace table: headings, one row per account, a rule, the totals."""
    whole = all(a == a.to_integral_value() for row in table.statement for a in row.amounts)
    money = (lambda a: f"{a:,.0f}") if whole else _money  # no ".00" on every cell when there are no cents
    body = [([*_wrap(row.item, STATEMENT_WRAP)], [money(a) for a in row.amounts]) for row in table.statement]
    total = (_wrap(total_label, STATEMENT_WRAP), [money(a) for a in table.totals])
    head = ([headings[0]], list(headings[1:5]))
    every = [head, *body, total]
    item_width = max(display_width(chunk) for chunks, _ in every for chunk in chunks)
    widths = [max(display_width(cells[i]) for _, cells in every) for i in range(4)]

    def lines_of(chunks: list[str], cells: list[str]) -> list[str]:
        first = _pad(chunks[0], item_width) + "".join(
            _GAP + " " * (w - display_width(c)) + c for c, w in zip(cells, widths, strict=True))
        full = display_width(first)
        return [first, *(_pad(chunk, full) for chunk in chunks[1:])]

    out = lines_of(*head)
    rule = "-" * display_width(out[0])
    out.append(rule)
    for chunks, cells in body:
        out += lines_of(chunks, cells)
    out.append(rule)
    out += lines_of(*total)
    return "\n".join(out)
