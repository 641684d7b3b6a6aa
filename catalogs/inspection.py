"""The township's own obligation: inspecting its villages' disclosure (核查督导) every half month (002) or at
least once a quarter on site (001). A profile names the cadence; these pure functions turn it and a day into
the inspection period that day falls in, and that period's due date (its last day: an inspection on any day
of the period meets it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from catalogs.periods import Period, month_end
from catalogs.vocabulary import Cadence

Every = Literal["half_month", "quarter"]
EN_HALVES = ("first", "second")


@dataclass(frozen=True, slots=True)
class InspectionPeriod:
    every: Every
    start: date
    end: date  # the due date

    @property
    def code(self) -> str:
        """2026-04a / 2026-04b for the halves of April; 2026Q2 for a quarter (a nag log key's part)."""
        if self.every == "quarter":
            return str(Period.containing(Cadence.QUARTERLY, self.start))
        return f"{self.start:%Y-%m}{'a' if self.start.day == 1 else 'b'}"

    def words(self, lang: str) -> str:
        """As people read it: 2026年4月上半月 / the first half of April 2026; a quarter as Period.words."""
        if self.every == "quarter":
            return Period.containing(Cadence.QUARTERLY, self.start).words(lang)
        month = Period.containing(Cadence.MONTHLY, self.start)
        first = self.start.day == 1
        if lang == "zh":
            return f"{month.words(lang)}{'上' if first else '下'}半月"
        return f"the {EN_HALVES[0 if first else 1]} half of {month.words(lang)}"

    def prev(self) -> InspectionPeriod:
        return period_containing(self.every, self.start - timedelta(days=1))

    def next(self) -> InspectionPeriod:
        return period_containing(self.every, self.end + timedelta(days=1))


def period_containing(every: Every, day: date) -> InspectionPeriod:
    """Halves are the 1st-15th and the 16th-the month's end; quarters are calendar quarters."""
    if every == "quarter":
        quarter = Period.containing(Cadence.QUARTERLY, day)
        return InspectionPeriod(every, quarter.start, quarter.end)
    if day.day <= 15:
        return InspectionPeriod(every, day.replace(day=1), day.replace(day=15))
    return InspectionPeriod(every, day.replace(day=16), month_end(day.year, day.month))


def owed_periods(every: Every, since: date, today: date) -> list[InspectionPeriod]:
    """The period before today's and today's, those that began on or after `since` (the township joined:
    nothing is owed for a period it was not there for the whole of), oldest first."""
    current = period_containing(every, today)
    return [p for p in (current.prev(), current) if p.start >= since]
