"""A profile's due dates for one year, as data (rows, JSON) and as aligned table cells.

The words of the text calendar (headings, cadence names, footnotes) are the bot's locale strings and
template (bot/ui/templates/<lang>/calendar.j2); this module only supplies the data and the column alignment,
so it stays free of any text and of any import from the bot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from catalogs.due import due_date
from catalogs.periods import periods_of_year
from catalogs.profile import Profile, RuleRef
from catalogs.vocabulary import PERIODIC, Cadence


def calendar(profile: Profile, year: int) -> list[dict[str, str]]:
    """Every period of every periodic cadence of `year` with its due date, sorted by due date."""
    rows = [
        {"cadence": cadence.value, "period": str(period), "due": due_date(profile, cadence, period).isoformat()}
        for cadence in PERIODIC
        for period in periods_of_year(cadence, year)
    ]
    order = {cadence.value: rank for rank, cadence in enumerate(PERIODIC)}
    return sorted(rows, key=lambda row: (row["due"], order[row["cadence"]], row["period"]))


def render_json(profile: Profile, year: int) -> str:
    return json.dumps(calendar(profile, year), ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class Borrowed:
    """A periodic cadence whose rule the profile borrows (its source is silent), for a footnote."""

    cadence: str
    rule: str
    borrowed_from: str


def rule_of(profile: Profile, cadence: str) -> RuleRef:
    return profile.rule_for(Cadence(cadence))


def marked(rule: RuleRef) -> str:
    """The rule id, with an asterisk when it is a local reading (for code and tests; people read words)."""
    return f"{rule.rule} *" if rule.local else rule.rule


def borrowed(profile: Profile) -> list[Borrowed]:
    """The periodic cadences whose dates no seed states (borrowed or read locally), for a footnote."""
    return [Borrowed(cadence.value, rule.rule, rule.borrowed_from or "")
            for cadence in PERIODIC if (rule := profile.rule_for(cadence)).local]


def width(text: str) -> int:
    """Terminal columns: CJK characters take two, so the table stays aligned."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def align(rows: Sequence[Sequence[str]]) -> list[str]:
    """Each row's cells padded to their column's width, two spaces apart."""
    widths = [max(width(cell) for cell in column) for column in zip(*rows, strict=True)]
    return ["  ".join(cell + " " * (size - width(cell)) for cell, size in zip(cells, widths, strict=True)).rstrip()
            for cells in rows]
