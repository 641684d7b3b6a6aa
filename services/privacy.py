"""Privacy screen: find personal numbers in a text before other people see it.

A village notice must not broadcast personal information: resident ID numbers, mobile and landline
phone numbers, bank card numbers. `screen` finds them, `mask_all` blanks them out, `number_key` names a
phone number whatever its format (for a village's official numbers, which are never flagged), and
`cli_main` is the `cunwu screen` command.

How a text is read (docs/security.md keeps the same list for reviewers)
------------------------------------------------------------------------
1. Normalise character by character with NFKC (full-width ``１３８`` -> ``138``, ``Ｘ`` -> ``X``,
   ``＋`` -> ``+``, ``（`` -> ``(``, the ideographic space -> a space; the full-width comma stays, a
   list's comma is no thousands separator) and drop invisible format characters
   (Unicode Cf: zero-width space/joiner, BOM, bidi marks, soft hyphen), remembering for every normalised
   character the original one it came from, so findings carry offsets into the ORIGINAL text.
2. Cut the text into digit groups and join neighbouring groups into one run when only separators stand
   between them: spaces or tabs of any count, one dot, dash or closing parenthesis among them, mixed
   freely (``1 3 8 1 2 3 4 5 6 7 8``, ``138.1234.5678``, ``1381 2345 678``, ``622202 1234567890123``).
   A newline, a comma or any other character ends a run.
3. Every stretch of whole groups inside a run is a candidate; its digits alone decide what it can be,
   first by the number's own evidence:
   * 18 characters with a real birth date (1900..today) at 7-14: a resident ID, high confidence when the
     GB 11643 check character agrees, low ("probable ID number") when it does not; a wrong check character
     never turns it into a bank card. 15 digits with a province code and a birth date: an old ID.
   * 11 digits ``1[3-9]…`` (after an optional 86 / +86 / 0086): a mobile; high confidence when Google's
     libphonenumber metadata knows the prefix, low otherwise (a prefix opened after the library's release).
   * 0 + area code (010, 02X, 0[3-9]XX) + a 7-8 digit local number (or 86 / +86 / 0086 and the area code
     without its 0): a landline, graded the same way.
   * 16-19 digits: a bank card only with a Luhn check AND a plausible issuer prefix (UnionPay 62/60/68,
     Visa 4, Mastercard 51-55 and 2221-2720, Amex/JCB 34/35/37, the domestic 9-series), or with a word
     such as 卡号/账号/银行 just before it (then low confidence when Luhn fails).
4. Only then the readings that make it NOT personal, in this order:
   * letters attached to it (``XM13812345678``, ``…5678-A``) or an identifier's word just before it
     (订单号, 合同编号, 项目编号, 流水号, 序列号, 批次, 发票, ISBN, SN…): an identifier;
   * an amount: decimals after it (``….00``), a thousands separator, or a word such as
     合计/收入/支出/金额 just before it;
   * a currency sign before it (¥ $ € £ RMB 人民币) or a unit after it (元 but not 元旦/元月/元宵, 万,
     亿, %, ‰) only when the number's own evidence is weak (low confidence): ``13812345678元旦`` and
     ``13812345678%`` stay mobiles.
   A resident ID whose check character agrees is personal whatever surrounds it.
5. Overlaps are resolved high confidence first, then longest first; a village's official numbers
   (`official`: keys from `number_key`) are dropped last, so ``138-1234-5678`` matches ``13812345678``.

Checksums come from python-stdnum (Luhn, the ID check character, the unified social credit code that a
probable ID may really be); phone validity from phonenumbers. Neither library's free-text search is used:
PhoneNumberMatcher skips ``13812345678%`` and knows no IDs or cards, and stdnum's cn.ric validation loads a
13 MB birthplace table, so the reader above stays ours.

Masking rules (masks are built from the normalised digits)
-----------------------------------------------------------
* ID, 18 digits: first 6 + 8 asterisks + last 4   ``110105********002X``
* ID, 15 digits: first 6 + 6 asterisks + last 3   ``110105******123``
* mobile: country prefix as written (normalised, e.g. ``+86 ``) + first 3 + ``****`` + last 4; grouping
  is dropped   ``+86 138****5678``
* landline: area code + ``-`` + ``****`` + last 2 digits of the local number   ``0571-****21``
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
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

if TYPE_CHECKING:
    from types import ModuleType

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


_KEPT = frozenset("，")  # a Chinese list's comma is not a thousands separator: NFKC would make it ","


def _normalise(text: str) -> _Normalised:
    """NFKC per character (NFKC may turn one character into several), dropping invisible Cf characters."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if unicodedata.category(char) == "Cf":
            continue
        for out in char if char in _KEPT else unicodedata.normalize("NFKC", char):
            chars.append(out)
            origin.append(index)
    return _Normalised("".join(chars), tuple(origin))


# --------------------------------------------------------------------------- runs of digit groups

# A group: ASCII digits, possibly ending in the ID check character X (each stretch ending in it is also
# read without it: "13812345678X" holds a mobile followed by a letter).
_GROUP = re.compile(r"[0-9]+[Xx]?", re.ASCII)
# What may stand between two groups of one number: spaces of any count, at most one dot, dash or ")".
_DASHES = "\\-\u2010-\u2015\u2212"
_JOIN = re.compile(rf"[ \t]*(?:[.{_DASHES})][ \t]*)?", re.ASCII)
_LONGEST = 21  # digits: 0086 + a 15-digit ID is beyond any reading; 19-digit cards and 0086 mobiles are not


@dataclass(frozen=True, slots=True)
class _Group:
    start: int
    end: int
    chars: str  # the group's digits (and final X)


def _runs(norm: str) -> Iterator[list[_Group]]:
    """Groups of digits joined by separators only; a run ends at anything else."""
    run: list[_Group] = []
    for match in _GROUP.finditer(norm):
        group = _Group(match.start(), match.end(), match.group())
        if run and not (run[-1].chars[-1].isdigit() and _JOIN.fullmatch(norm, run[-1].end, group.start)):
            yield run
            run = []
        run.append(group)
    if run:
        yield run


@dataclass(frozen=True, slots=True)
class _Stretch:
    """Whole groups `first..last` of a run: their characters (a final X dropped when `drop_x`)."""

    chars: str
    groups: tuple[_Group, ...]
    drop_x: bool = False

    @property
    def start(self) -> int:
        return self.groups[0].start

    @property
    def end(self) -> int:
        return self.groups[-1].end - self.drop_x

    def position(self, index: int) -> int:
        """Where the `index`-th character of `chars` stands in the normalised text."""
        for group in self.groups:
            if index < len(group.chars):
                return group.start + index
            index -= len(group.chars)
        raise IndexError(index)


def _stretches(run: list[_Group], norm: str) -> Iterator[_Stretch]:
    """Every stretch of whole groups; one starts inside a run only after a space ("2026.03.31 2026…" holds
    no number starting at "03", "HT-2026-0331-138…" none at "138": a dot or dash binds its groups)."""
    for first in range(len(run)):
        if first and " " not in norm[run[first - 1].end : run[first].start]:
            continue
        chars = ""
        for last in range(first, len(run)):
            chars += run[last].chars
            if len(chars) > _LONGEST:
                break
            if len(chars) >= 10:  # a landline with a 3-digit area code is the shortest reading
                groups = tuple(run[first : last + 1])
                yield _Stretch(chars, groups)
                if chars[-1] in "xX":
                    yield _Stretch(chars[:-1], groups, drop_x=True)


# --------------------------------------------------------------------------- what the digits alone say

# First two digits of PRC region codes (provinces, Hong Kong/Macao 81/82, Taiwan residence permits 83).
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82", "83"}
)
# Card issuers seen on cards held in China: UnionPay 62 (and 60, 68 of some domestic banks), Visa 4,
# Mastercard 51-55 and 2221-2720, Amex 34/37, JCB 35, the domestic 9-series of older debit cards (9558…).
_ISSUER = re.compile(r"6[028]|4|5[1-5]|2(?:22[1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)|3[457]|9[45]", re.ASCII)


# phonenumbers and python-stdnum are imported the first time a text holds a candidate number (about 2.5 MB
# resident, most of a `cunwu run` never needs them): importing this module imports neither.
@lru_cache(maxsize=1)
def _phonenumbers() -> ModuleType:
    import phonenumbers

    return phonenumbers


@lru_cache(maxsize=1)
def _stdnum() -> tuple[ModuleType, ModuleType, ModuleType]:
    """stdnum's luhn, cn.ric and cn.uscc."""
    from stdnum import luhn
    from stdnum.cn import ric, uscc

    return luhn, ric, uscc


def id_check_char(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits of a resident ID number."""
    _luhn, ric, _uscc = _stdnum()
    return str(ric.calc_check_digit(first17 + "0"))  # stdnum expects (and ignores) a check character


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by bank card numbers."""
    luhn, _ric, _uscc = _stdnum()
    return digits.isdigit() and bool(luhn.is_valid(digits))


def _plausible_birth(year: int, month: int, day: int) -> bool:
    """A real calendar date between 1900-01-01 and today."""
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


@dataclass(frozen=True, slots=True)
class _Reading:
    kind: Kind
    confidence: Confidence
    national: str = ""  # a phone's number without country code or trunk 0: its key among official numbers
    prefix: int = 0  # a mobile's country-code digits (86 / 0086) kept in the mask
    card_needs_word: bool = False  # a card whose digits alone are not enough (no Luhn or no issuer prefix)

    @property
    def checked(self) -> bool:
        """A resident ID whose check character agrees: personal whatever surrounds it."""
        return self.kind == "id_number" and self.confidence == "high"


def _id18(chars: str) -> _Reading | None:
    digits = chars.upper()
    if not digits[:17].isdigit() or not _plausible_birth(int(digits[6:10]), int(digits[10:12]), int(digits[12:14])):
        return None
    if id_check_char(digits[:17]) == digits[17]:
        return _Reading("id_number", "high")
    _luhn, _ric, uscc = _stdnum()
    if digits[:2] in _PROVINCES and not uscc.is_valid(digits):  # a credit code may be all digits too
        return _Reading("id_number", "low")
    return None


def _id15(digits: str) -> _Reading | None:
    if digits[:2] in _PROVINCES and _plausible_birth(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12])):
        return _Reading("id_number", "high")
    return None


@lru_cache(maxsize=4096)
def _phone_known(national: str, mobile: bool) -> bool:
    """Does libphonenumber's metadata know this Chinese number (prefix, area code and length)?"""
    phonenumbers = _phonenumbers()
    number = phonenumbers.parse("+86" + national)
    wanted = phonenumbers.PhoneNumberType.MOBILE if mobile else phonenumbers.PhoneNumberType.FIXED_LINE
    kind = phonenumbers.number_type(number)
    return phonenumbers.is_valid_number(number) and kind in (wanted, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _mobile(digits: str) -> _Reading | None:
    for prefix in ("", "86", "0086"):
        national = digits[len(prefix) :]
        if digits.startswith(prefix) and len(national) == 11 and national[0] == "1" and national[1] in "3456789":
            return _Reading("mobile", "high" if _phone_known(national, True) else "low", national, len(prefix))
    return None


def _area_length(digits: str) -> int:
    """Length of the area code with its trunk 0: 010 and 02X are three digits, 0[3-9]XX four; 0 = none."""
    if digits[:3] == "010" or digits[:2] == "02":
        return 3
    return 4 if digits[:1] == "0" and digits[1:2] in "3456789" and len(digits) > 1 else 0


def _landline(digits: str) -> _Reading | None:
    """0 + area code + local number, or 86 / 0086 + the area code without its 0 (+86 571 8765 4321)."""
    for prefix in ("86", "0086"):
        code = digits[len(prefix) : len(prefix) + 2]  # the area code's first two digits, without its 0
        if digits.startswith(prefix) and code[:1] not in ("", "0") and (code[0] != "1" or code == "10"):
            reading = _landline("0" + digits[len(prefix) :])
            return _Reading("landline", reading.confidence, reading.national, len(prefix)) if reading else None
    area = _area_length(digits)
    local = digits[area:]
    if not area or len(local) not in (7, 8) or local[0] == "0":
        return None
    national = digits[1:]
    return _Reading("landline", "high" if _phone_known(national, False) else "low", national)


def _card(digits: str) -> _Reading | None:
    """Luhn and an issuer prefix: a card. Otherwise a card only with a word before it (`_personal`), and then
    of high confidence when Luhn holds (`_with_word`): Luhn runs only where it can decide something."""
    if not 16 <= len(digits) <= 19 or len(set(digits)) == 1:  # all-same-digit runs are placeholders
        return None
    evident = _ISSUER.match(digits) is not None and luhn_valid(digits)
    return _Reading("bank_card", "high" if evident else "low", card_needs_word=not evident)


def _with_word(reading: _Reading, digits: str) -> _Reading:
    """A card that a word such as 卡号 vouches for: high confidence when its Luhn check holds."""
    if reading.card_needs_word and luhn_valid(digits):
        return _Reading("bank_card", "high", card_needs_word=True)
    return reading


def _read(chars: str) -> _Reading | None:
    """What the characters alone can be: an ID before a card, a phone by its length and prefix."""
    if not chars[:-1].isdigit():
        return None  # an X inside: "123X 4567…" is no number
    if chars[-1] in "xX":
        return _id18(chars) if len(chars) == 18 else None
    reading = _id18(chars) if len(chars) == 18 else _id15(chars) if len(chars) == 15 else None
    return reading or _mobile(chars) or _landline(chars) or _card(chars)


# --------------------------------------------------------------------------- what surrounds the number

_LETTER_BEFORE = re.compile(rf"[A-Za-z][{_DASHES}_/]$", re.ASCII)
_LETTER_AFTER = re.compile(rf"[{_DASHES}_/][A-Za-z]", re.ASCII)
_GAP = r"[\s:：#＃号码为是约共计]{0,4}$"  # what may stand between a word and its number ("合计：", "编号为")
_IDENTIFIER_WORD = re.compile(
    r"(?:订单|合同|编号|单号|流水|序列|序号|批次|批号|发票|凭证|文号|证书|条码|工单|货号|型号|代码|ISBN|ISSN|SN|S/N)"
    + _GAP, re.IGNORECASE)
_AMOUNT_WORD = re.compile(
    r"(?:合计|总计|小计|共计|金额|总额|余额|收入|支出|费用|价款|单价|总价|预算|资金|款项|工资|报酬)"
    + r"[\s:：为是约共计¥$€£RMB人民币]{0,6}$")
_DECIMALS = re.compile(r"\.[0-9]{1,2}(?![0-9])", re.ASCII)
_THOUSANDS_AFTER = re.compile(r",[0-9]{3}(?![0-9])", re.ASCII)
_THOUSANDS_BEFORE = re.compile(r"[0-9],$", re.ASCII)
_CURRENCY_BEFORE = re.compile(r"(?:[¥$€£]|RMB|人民币)\s*$")
_UNIT_AFTER = re.compile(r"(?:元(?![旦月宵])|万|亿|%|‰)")
_CARD_WORD = re.compile(r"卡|账号|帐号|账户|帐户|银行|开户")


def _personal(norm: str, start: int, end: int, reading: _Reading) -> bool:
    """Whether what surrounds the number lets it stay personal (see the module's reading order, step 4)."""
    if reading.checked:
        return True
    before, after = norm[max(0, start - 16) : start], norm[end : end + 8]
    if reading.card_needs_word and not _CARD_WORD.search(before):
        return False
    if _LETTER_BEFORE.search(before) or _LETTER_AFTER.match(after) or _IDENTIFIER_WORD.search(before):
        return False
    if _DECIMALS.match(after) or _THOUSANDS_AFTER.match(after) or _THOUSANDS_BEFORE.search(before):
        return False  # an amount: 12345678901.00, 12,345,678
    if _AMOUNT_WORD.search(before):
        return False
    return reading.confidence == "high" or not (_CURRENCY_BEFORE.search(before) or _UNIT_AFTER.match(after))


# --------------------------------------------------------------------------- masks and candidates


def _mask(reading: _Reading, stretch: _Stretch, norm: str, start: int) -> str:
    digits = stretch.chars.upper()
    if reading.kind == "id_number":
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:] if len(digits) == 18 else \
            digits[:6] + "*" * 6 + digits[-3:]
    if reading.kind == "bank_card":
        return "****" + digits[-4:]
    if reading.kind == "landline":
        area = _area_length("0" + reading.national) - 1  # the area code without its trunk 0
        written = norm[start : stretch.position(reading.prefix)] if reading.prefix else "0"
        return written + reading.national[:area] + "-****" + digits[-2:]
    written_prefix = norm[start : stretch.position(reading.prefix)] if reading.prefix else ""
    if not reading.prefix and start < stretch.start:  # a "+" before the number, without a country code
        written_prefix = ""
    return written_prefix + reading.national[:3] + "****" + reading.national[-4:]


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: Kind
    start: int  # in the normalised text
    end: int
    masked: str
    confidence: Confidence
    national: str


_PRIORITY: dict[Kind, int] = {"id_number": 0, "bank_card": 1, "mobile": 2, "landline": 3}


def _span(norm: str, stretch: _Stretch, reading: _Reading) -> int:
    """Where the finding starts: a "+" before a country code, a "(" around an area code belong to it."""
    start = stretch.start
    if start and reading.prefix and norm[start - 1] == "+":
        return start - 1
    if start and reading.kind == "landline" and not reading.prefix and norm[start - 1] == "(":
        return start - 1
    return start


def _candidates(norm: str) -> Iterator[_Candidate]:
    for run in _runs(norm):
        for stretch in _stretches(run, norm):
            reading = _read(stretch.chars)
            if reading is None:
                continue
            start = _span(norm, stretch, reading)
            if _personal(norm, start, stretch.end, reading):
                reading = _with_word(reading, stretch.chars)
                masked = _mask(reading, stretch, norm, start)
                yield _Candidate(reading.kind, start, stretch.end, masked, reading.confidence, reading.national)


def _resolve(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """Keep non-overlapping candidates: high confidence first, then longest, earliest, by kind priority.

    Confidence first: in '138 1234 5678 6222 0212 3456 7890' a low reading across both numbers
    must not push out the real card that follows the mobile.
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


def screen(text: str, official: Collection[str] = ()) -> list[Finding]:
    """Every piece of personal information in `text`, sorted by start, non-overlapping.

    `official`: the keys (`number_key`) of public numbers that are never flagged, such as a village's
    supervision phone, in whatever format the text writes them."""
    normalised = _normalise(text)
    findings: list[Finding] = []
    for candidate in _resolve(list(_candidates(normalised.text))):
        if candidate.national and candidate.national in official:
            continue
        start, end = normalised.original_span(candidate.start, candidate.end)
        findings.append(Finding(candidate.kind, start, end, text[start:end], candidate.masked, candidate.confidence))
    return findings


def number_key(text: str) -> str | None:
    """The key of the one phone number `text` holds (its digits without country code or trunk 0:
    '138-1234-5678' and '+86 13812345678' share '13812345678'), or None when it holds no phone or several."""
    phones = [c for c in _resolve(list(_candidates(_normalise(text).text))) if c.national]
    return phones[0].national if len(phones) == 1 else None


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
    parser.add_argument("--official", action="append", default=[], metavar="NUMBER",
                        help="a public phone number never flagged, in any format (repeatable)")
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
    """`cunwu screen FILE|- [--format json] [--official NUMBER]…` (argv = arguments after `screen`).

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
    official = {key for key in map(number_key, args.official) if key}
    findings = screen(text, official)
    print(format_json(findings) if args.format == "json" else format_text(text, findings), file=stdout)
    return EXIT_FOUND if findings else EXIT_CLEAN
