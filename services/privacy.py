"""Privacy screen: find personal numbers in a notice before it is published.

A village notice must not broadcast personal information: resident ID numbers,
mobile and landline phone numbers, bank card numbers. `screen` finds them,
`mask_all` blanks them out, `cli_main` is the `cunwu screen` command.

How detection works
-------------------
1. The text is normalised character by character with NFKC (full-width
   digits ``１３８`` become ``138``, ``Ｘ`` becomes ``X``, ``＋`` becomes ``+``,
   the ideographic space becomes a space). Invisible format characters
   (Unicode category Cf: zero-width space/joiner, BOM, bidi marks, soft
   hyphen) are dropped, so a number cannot hide behind them. For every
   normalised character we remember the index of the original character it
   came from, so findings carry offsets into the ORIGINAL text.
2. A handful of regular expressions (ASCII digits only, each anchored by
   digit boundaries so nothing matches inside a longer digit run) propose
   candidates; small functions validate them (ID check digit and birth date,
   Luhn, province code) and decide kind and confidence.
3. Obvious non-personal numbers are dropped (decimal amounts, percentages,
   amounts in 元 or after a currency sign, all-same-digit fillers, lists of years).
4. Overlaps are resolved high-confidence first, then longest first; findings come back sorted by start.

Masking rules (masks are built from the normalised digits)
-----------------------------------------------------------
* ID, 18 digits: first 6 + 8 asterisks + last 4   ``110105********002X``
* ID, 15 digits: first 6 + 6 asterisks + last 3   ``110105******123``
* mobile: country prefix as written (normalised, e.g. ``+86 ``) + first 3 +
  ``****`` + last 4; grouping spaces/dashes are dropped   ``+86 138****5678``
* landline: area code digits + ``-`` + ``****`` + last 2 digits of the local
  number; parentheses and grouping are dropped   ``0571-****21``
* bank card: ``****`` + last 4 digits   ``****0123``
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, TextIO

Kind = Literal["id_number", "mobile", "landline", "bank_card"]
Confidence = Literal["high", "low"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal information; `start`/`end` index the original text (end exclusive)."""

    kind: Kind
    start: int
    end: int
    text: str
    masked: str
    confidence: Confidence = "high"

    def to_json(self) -> dict[str, str | int]:
        return {"kind": self.kind, "start": self.start, "end": self.end, "text": self.text, "masked": self.masked}


# --------------------------------------------------------------------------- normalisation


@dataclass(frozen=True, slots=True)
class _Normalised:
    text: str
    origin: tuple[int, ...]  # origin[j] = index in the original text of normalised character j

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering normalised [start, end); a partly matched original char is covered whole."""
        return self.origin[start], self.origin[end - 1] + 1


def _normalise(text: str) -> _Normalised:
    """NFKC per character (NFKC may turn one character into several), dropping invisible Cf characters."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        for out in unicodedata.normalize("NFKC", char):
            chars.append(out)
            origin.append(index)
    return _Normalised("".join(chars), tuple(origin))


# --------------------------------------------------------------------------- patterns

# Separator allowed between digit groups: space, ASCII hyphen, Unicode hyphens and dashes
# (U+2010..U+2015) and the minus sign. NFKC already turned full-width "－" and U+3000 into these.
_SEP = r"[ \-\u2010-\u2015\u2212]"


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile a verbose pattern; `<SEP>` stands for one group separator. ASCII mode: \\d would be any script."""
    return re.compile(pattern.replace("<SEP>", _SEP), re.VERBOSE | re.ASCII)


# A contiguous run of 15..19 digits, or 17 digits and an X check character (18-digit ID).
# Classified later by length: 15 → old ID, 18 → ID or card, 16/17/19 → card.
_LONG_RUN = _rx(r"""
    (?<![0-9])                 # not inside a longer digit run
    (?: [0-9]{17}[Xx] (?![0-9])          # 18-digit ID ending in the check character X
      | [0-9]{15,19} (?![0-9Xx]) )       # old ID or bank card (a trailing X makes it something else)
""")

# An 18-digit ID written in groups: region(6) birth date(8, or 4+4) sequence+check(4).
_GROUPED_ID = _rx(r"""
    (?<![0-9])
    [0-9]{6} <SEP>                              # administrative region code
    (?: [0-9]{8} | [0-9]{4} <SEP> [0-9]{4} )    # YYYYMMDD or YYYY MMDD
    <SEP> [0-9]{3}[0-9Xx]                       # sequence number + check character
    (?![0-9])
""")

# A bank card written in groups of four: 4-4-4-4, optionally a short fifth group (17..19 digits).
_GROUPED_CARD = _rx(r"""
    (?<![0-9])
    [0-9]{4} (?: <SEP> [0-9]{4} ){3}     # 16 digits in four groups
    (?: <SEP> [0-9]{1,3} )?              # up to 19 digits
    (?![0-9])
""")

# Mainland mobile: 1[3-9]X XXXX XXXX, groups optionally split by one separator,
# optionally preceded by +86 / 86 / 0086 and an optional separator.
_MOBILE = _rx(r"""
    (?<![0-9])
    (?P<prefix> (?: \+ | 00 )? 86 <SEP>? )?                   # country code, kept in the mask
    (?P<number> 1[3-9][0-9] <SEP>? [0-9]{4} <SEP>? [0-9]{4} )  # 3-4-4 digits
    (?![0-9])
""")

# Landline: area code 010, 02X or 0[3-9]XX, bare or in parentheses,
# optional separator, then a 7-8 digit local number not starting with 0, optionally split 3/4 + 4.
# Extensions ("转123", "-123") are left outside the finding.
_LANDLINE = _rx(r"""
    (?<![0-9])
    (?: \( (?P<area_p> 0 (?: 10 | 2[0-9] | [3-9][0-9]{2} ) ) \) <SEP>?   # (0571)
      | (?P<area>      0 (?: 10 | 2[0-9] | [3-9][0-9]{2} ) ) <SEP>? )    # 0571 / 0571- / 0571␠
    (?P<local> [1-9][0-9]{2,3} <SEP>? [0-9]{4} )                        # 8765 4321 / 2345678
    (?![0-9])
""")

_NON_DIGITS = re.compile(r"[^0-9Xx]")  # everything but the digits (and ID check character)

# --------------------------------------------------------------------------- validators

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # GB 11643-1999: check character indexed by (weighted sum mod 11)
# First two digits of PRC region codes (provinces, Hong Kong/Macao 81/82, Taiwan residence permits 83).
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82", "83"}
)


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by bank card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _plausible_birth(year: int, month: int, day: int) -> bool:
    """A real calendar date between 1900-01-01 and today."""
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def _id18_date_ok(digits: str) -> bool:
    birth = digits[6:14]
    return birth.isdigit() and _plausible_birth(int(birth[:4]), int(birth[4:6]), int(birth[6:]))


def _id18_checksum_ok(digits: str) -> bool:
    return digits[:17].isdigit() and id_check_char(digits[:17]) == digits[17].upper()


def _id15_date_ok(digits: str) -> bool:
    return _plausible_birth(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))


# --------------------------------------------------------------------------- classification

_Verdict = tuple[Kind, Confidence]


def _card_verdict(digits: str) -> _Verdict | None:
    if not digits.isdigit() or not 16 <= len(digits) <= 19 or len(set(digits)) == 1:
        return None  # all-same-digit runs are placeholders ("0000 0000 0000 0000")
    return "bank_card", "high" if luhn_valid(digits) else "low"


def _id18_verdict(digits: str) -> _Verdict | None:
    """18 characters: valid ID > Luhn-valid card > typo'd ID (plausible date) > unvalidated card."""
    date_ok = _id18_date_ok(digits)
    if date_ok and _id18_checksum_ok(digits):
        return "id_number", "high"
    if digits.isdigit() and luhn_valid(digits) and len(set(digits)) > 1:
        return "bank_card", "high"
    if date_ok:
        return "id_number", "low"
    return _card_verdict(digits)


def _id15_verdict(digits: str) -> _Verdict | None:
    if not _id15_date_ok(digits):
        return None
    return "id_number", "high" if digits[:2] in _PROVINCES else "low"


def _long_verdict(digits: str) -> _Verdict | None:
    if len(digits) == 15:
        return _id15_verdict(digits)
    if len(digits) == 18:
        return _id18_verdict(digits)
    return _card_verdict(digits)


def _is_year_list(text: str) -> bool:
    """'2019 2020 2021 2022' is a list of years, not a card."""
    groups = re.split(_SEP, text)
    return all(re.fullmatch(r"(?:19|20)[0-9]{2}", group) for group in groups)


def _grouped_card_verdict(text: str) -> _Verdict | None:
    verdict = _long_verdict(_NON_DIGITS.sub("", text))
    if verdict is None or verdict[0] == "id_number":
        return verdict  # 16..19 digits: a valid ID grouped in fours is still an ID
    if verdict[1] == "low" and _is_year_list(text):
        return None
    return verdict


def _grouped_id_verdict(text: str) -> _Verdict | None:
    verdict = _id18_verdict(_NON_DIGITS.sub("", text))
    return verdict if verdict and verdict[0] == "id_number" else None  # 6-8-4 grouping is not a card


# --------------------------------------------------------------------------- masks


def _mask_id(digits: str) -> str:
    digits = digits.upper()
    if len(digits) == 18:
        return digits[:6] + "*" * 8 + digits[-4:]
    return digits[:6] + "*" * (len(digits) - 9) + digits[-3:]


def _mask_card(digits: str) -> str:
    return "****" + digits[-4:]


def _mask_number(kind: Kind, digits: str) -> str:
    return _mask_id(digits) if kind == "id_number" else _mask_card(digits)


def _mask_mobile(match: re.Match[str]) -> str:
    number = _NON_DIGITS.sub("", match["number"])
    return (match["prefix"] or "") + number[:3] + "****" + number[-4:]


def _mask_landline(match: re.Match[str]) -> str:
    local = _NON_DIGITS.sub("", match["local"])
    return (match["area_p"] or match["area"]) + "-****" + local[-2:]


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: Kind
    start: int  # in the normalised text
    end: int
    masked: str
    confidence: Confidence


_PRIORITY: dict[Kind, int] = {"id_number": 0, "bank_card": 1, "mobile": 2, "landline": 3}


def _matches(pattern: re.Pattern[str], norm: str) -> Iterator[re.Match[str]]:
    """Every match, overlapping ones included: in '1234 5678 6222 0212 3456 7890' the card starting
    at '6222' must be proposed even though '1234 5678 6222 0212' matched first. (`search(text, pos)`
    still lets lookbehinds see the characters before `pos`.)"""
    match = pattern.search(norm)
    while match is not None:
        yield match
        match = pattern.search(norm, match.start() + 1)


def _numbers(norm: str, pattern: re.Pattern[str], judge: Callable[[str], _Verdict | None]) -> Iterator[_Candidate]:
    """IDs and cards: `judge` gets the matched text and decides kind and confidence (or rejects)."""
    for match in _matches(pattern, norm):
        verdict = judge(match.group())
        if verdict is not None:
            kind, confidence = verdict
            masked = _mask_number(kind, _NON_DIGITS.sub("", match.group()))
            yield _Candidate(kind, match.start(), match.end(), masked, confidence)


def _phones(norm: str) -> Iterator[_Candidate]:
    for match in _matches(_MOBILE, norm):
        yield _Candidate("mobile", match.start(), match.end(), _mask_mobile(match), "high")
    for match in _matches(_LANDLINE, norm):
        yield _Candidate("landline", match.start(), match.end(), _mask_landline(match), "high")


def _candidates(norm: str) -> Iterator[_Candidate]:
    yield from _numbers(norm, _LONG_RUN, _long_verdict)
    yield from _numbers(norm, _GROUPED_ID, _grouped_id_verdict)
    yield from _numbers(norm, _GROUPED_CARD, _grouped_card_verdict)
    yield from _phones(norm)


_CURRENCY_BEFORE = frozenset("¥$€£")
_UNIT_AFTER = frozenset("%‰元")


def _is_quantity(norm: str, start: int, end: int) -> bool:
    """An amount or a percentage: '12345678901234567.00', '13812345678元', '¥…', '…%'."""
    after = norm[end : end + 2]
    if after[:1] and after[0] in _UNIT_AFTER:
        return True
    if len(after) == 2 and after[0] == "." and after[1].isdigit():
        return True
    return start > 0 and norm[start - 1] in _CURRENCY_BEFORE


def _resolve(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """Keep non-overlapping candidates: high confidence first, then longest, earliest, by kind priority.

    Confidence first: in '138 1234 5678 6222 0212 3456 7890' the Luhn-invalid '5678 6222 0212 3456'
    must not push out the real card that follows it.
    """
    starts: list[int] = []  # the chosen candidates, kept sorted by start (they never overlap)
    chosen: list[_Candidate] = []
    ordered = sorted(
        candidates, key=lambda c: (c.confidence != "high", c.start - c.end, c.start, _PRIORITY[c.kind])
    )
    for candidate in ordered:
        at = bisect.bisect_left(starts, candidate.start)
        if at > 0 and chosen[at - 1].end > candidate.start:
            continue  # overlaps the chosen one starting before it
        if at < len(chosen) and chosen[at].start < candidate.end:
            continue  # overlaps the chosen one starting at or after it
        starts.insert(at, candidate.start)
        chosen.insert(at, candidate)
    return chosen


# --------------------------------------------------------------------------- public API


def screen(text: str) -> list[Finding]:
    """Every piece of personal information in `text`, sorted by start, non-overlapping."""
    normalised = _normalise(text)
    norm = normalised.text
    kept = [c for c in _candidates(norm) if not _is_quantity(norm, c.start, c.end)]
    findings: list[Finding] = []
    for candidate in _resolve(kept):
        start, end = normalised.original_span(candidate.start, candidate.end)
        findings.append(Finding(candidate.kind, start, end, text[start:end], candidate.masked, candidate.confidence))
    return findings


def mask_all(text: str, findings: list[Finding] | None = None) -> str:
    """`text` with every finding replaced by its mask.

    `findings` default to `screen(text)`. All offsets refer to the original `text`, so the result is
    assembled from the original pieces in one pass (equivalent to replacing right to left, but linear).
    A finding whose `text` is not at its offsets raises ValueError; one overlapping an earlier finding is skipped.
    """
    if findings is None:
        findings = screen(text)
    pieces: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: (f.start, f.end)):
        if text[finding.start : finding.end] != finding.text:
            raise ValueError(f"finding {finding.kind} at {finding.start}..{finding.end} does not match the text")
        if finding.start < position:
            continue
        pieces += (text[position : finding.start], finding.masked)
        position = finding.end
    pieces.append(text[position:])
    return "".join(pieces)


# --------------------------------------------------------------------------- CLI

EXIT_CLEAN = 0
EXIT_FOUND = 1
EXIT_UNREADABLE = 2


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Arguments of `cunwu screen`; pass a subparser to mount them elsewhere."""
    parser = parser or argparse.ArgumentParser(
        prog="cunwu screen", description="screen a text for personal information (ID, phone, bank card numbers)"
    )
    parser.add_argument("file", metavar="FILE", help="UTF-8 text file to screen, or - for standard input")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    return parser


def _read_source(name: str, stdin: TextIO) -> str:
    """The text to screen. Raises OSError or UnicodeDecodeError. Bytes are decoded as-is (CR kept)."""
    if name == "-":
        return stdin.read()
    return Path(name).read_bytes().decode("utf-8")


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of `offset`."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no personal information found"
    counts = Counter(f.kind for f in findings)
    detail = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{len(findings)} {noun} ({detail})"


def format_text(text: str, findings: Sequence[Finding]) -> str:
    """One line per finding: `line:column  kind  confidence  text -> mask`, then a summary line."""
    lines = []
    for finding in findings:
        line, column = _line_column(text, finding.start)
        lines.append(f"{line}:{column}  {finding.kind}  {finding.confidence}  {finding.text} -> {finding.masked}")
    lines.append(_summary(findings))
    return "\n".join(lines)


def format_json(findings: Sequence[Finding]) -> str:
    return json.dumps([finding.to_json() for finding in findings], ensure_ascii=False, indent=2)


def _parse(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code argparse asked for (usage errors → 2, --help → 0)."""
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            return build_parser().parse_args(list(argv))
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_UNREADABLE


def cli_main(
    argv: Sequence[str],
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`cunwu screen FILE|- [--format json]` (argv = arguments after `screen`).

    Exit 1 when something was found, 0 when the text is clean, 2 when the file cannot be read
    (one line on stderr). Streams default to sys.stdin/stdout/stderr at call time.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = _parse(argv, stdout, stderr)
    if isinstance(args, int):
        return args
    try:
        text = _read_source(args.file, stdin)
    except UnicodeDecodeError:
        print(f"cunwu screen: {args.file} is not valid UTF-8", file=stderr)
        return EXIT_UNREADABLE
    except OSError as error:
        print(f"cunwu screen: cannot read {args.file}: {error.strerror or error}", file=stderr)
        return EXIT_UNREADABLE
    findings = screen(text)
    print(format_json(findings) if args.format == "json" else format_text(text, findings), file=stdout)
    return EXIT_FOUND if findings else EXIT_CLEAN
