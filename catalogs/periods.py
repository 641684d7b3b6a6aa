"""Calendar periods (year, quarter, month) as a small immutable value type."""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date

from catalogs.vocabulary import PERIODIC, Cadence

_PATTERNS: tuple[tuple[Cadence, re.Pattern[str]], ...] = (
    (Cadence.QUARTERLY, re.compile(r"(\d{4})Q([1-4])")),
    (Cadence.MONTHLY, re.compile(r"(\d{4})-(0[1-9]|1[0-2])")),
    (Cadence.ANNUAL, re.compile(r"(\d{4})()")),
)
_PER_YEAR = {Cadence.ANNUAL: 1, Cadence.QUARTERLY: 4, Cadence.MONTHLY: 12}
_MONTHS = {Cadence.ANNUAL: 12, Cadence.QUARTERLY: 3, Cadence.MONTHLY: 1}
ZH_QUARTERS = ("一", "二", "三", "四")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def periodic(cadence: Cadence | str) -> Cadence:
    """The cadence as an enum, refusing the event-driven ones that have no periods."""
    value = Cadence(cadence)
    if value not in PERIODIC:
        raise ValueError(f"cadence {value.value!r} has no periods; periodic ones are {[c.value for c in PERIODIC]}")
    return value


def month_end(year: int, month: int) -> date:
    return date(year, month, _calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class Period:
    """One year, quarter or month. `index` is 1 for a year, 1-4 for a quarter, 1-12 for a month."""

    cadence: Cadence
    year: int
    index: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.index <= _PER_YEAR[periodic(self.cadence)]:
            raise ValueError(f"{self.cadence.value} period index out of range: {self.index}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """'2026Q1', '2026-03' or '2026'."""
        for cadence, pattern in _PATTERNS:
            match = pattern.fullmatch(text.strip())
            if match:
                return cls(cadence, int(match[1]), int(match[2] or 1))
        raise ValueError(f"not a period: {text!r} (expected e.g. 2026Q1, 2026-03 or 2026)")

    @classmethod
    def containing(cls, cadence: Cadence | str, day: date) -> Period:
        kind = periodic(cadence)
        return cls(kind, day.year, (day.month - 1) // _MONTHS[kind] + 1)

    def __str__(self) -> str:
        if self.cadence is Cadence.QUARTERLY:
            return f"{self.year}Q{self.index}"
        if self.cadence is Cadence.MONTHLY:
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}"

    def words(self, lang: str) -> str:
        """As people read it: 2026年第三季度 / Q3 2026; 2026年3月 / March 2026; 2026年度 / 2026."""
        year, index = self.year, self.index
        if self.cadence is Cadence.QUARTERLY:
            return f"{year}年第{ZH_QUARTERS[index - 1]}季度" if lang == "zh" else f"Q{index} {year}"
        if self.cadence is Cadence.MONTHLY:
            return f"{year}年{index}月" if lang == "zh" else f"{EN_MONTHS[index - 1]} {year}"
        return f"{year}年度" if lang == "zh" else str(year)

    @property
    def first_month(self) -> int:
        return (self.index - 1) * _MONTHS[self.cadence] + 1

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        return month_end(self.year, self.first_month + _MONTHS[self.cadence] - 1)

    def shifted(self, steps: int) -> Period:
        ordinal = self.year * _PER_YEAR[self.cadence] + self.index - 1 + steps
        year, zero_based = divmod(ordinal, _PER_YEAR[self.cadence])
        return Period(self.cadence, year, zero_based + 1)

    def next(self) -> Period:
        return self.shifted(1)

    def prev(self) -> Period:
        return self.shifted(-1)


def periods_of_year(cadence: Cadence | str, year: int) -> list[Period]:
    kind = periodic(cadence)
    return [Period(kind, year, index) for index in range(1, _PER_YEAR[kind] + 1)]


def period_words(code: str | Period | None, lang: str) -> str:
    """A period code ('2026Q3', '2026-03', '2026') in words for `lang`; anything else unchanged ("" for None).

    The one place periods are worded: bot templates use it as the `period` filter, pages as `period()`."""
    if not code:
        return ""
    if isinstance(code, Period):
        return code.words(lang)
    try:
        return Period.parse(str(code)).words(lang)
    except ValueError:
        return str(code)
