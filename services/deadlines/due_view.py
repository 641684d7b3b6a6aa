"""/due as a phone screen: each village's obligations grouped (overdue, due this month, later), one line per
obligation (an item owed for several periods is one line with the count), a page at a time.

Pure functions of `obligations.due_for`'s result, so the first screen and every "more" tap are computed the
same way from the database as it is at the tap (no list kept between taps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.deadlines.obligations import DUE, MET, OVERDUE, Owed, VillageDue

GROUPS = ("overdue", "this_month", "later", "met")  # met: published lately (on time or late), listed last
LINES_PER_PAGE = 12  # obligation lines; with the village and group headings a page stays about 20 lines


def group_of(owed: Owed, today: date) -> str | None:
    """Which heading an obligation is listed under."""
    if owed.status == OVERDUE:
        return "overdue"
    if owed.status in MET:
        return "met"
    if owed.status != DUE:
        return None
    if owed.due is not None and (owed.due.year, owed.due.month) == (today.year, today.month):
        return "this_month"
    return "later"


@dataclass
class Line:
    village: int  # index in the villages listed
    group: str
    first: Owed  # the earliest period owed
    periods: list[str]  # every period of the item in this group, oldest first ("" for long-term or events)

    def as_dict(self) -> dict[str, Any]:
        o = self.first
        return {"zh": o.zh, "en": o.en, "cadence": o.cadence, "status": o.status, "periods": self.periods,
                "count": len(self.periods), "due": o.due.isoformat() if o.due else None,
                "met_on": o.met_on.isoformat() if o.met_on else None, "notes": list(o.notes)}


def lines(found: list[VillageDue]) -> list[Line]:
    """Every line of /due, in order: village, group, due date. One line per item and group: periods of the
    same item owed at once (a monthly finance item two months behind) are counted on one line."""
    result: list[Line] = []
    for index, village in enumerate(found):
        by_item: dict[tuple[str, str], Line] = {}
        for owed in sorted(village.owed, key=lambda o: (o.due or date.max, o.key)):
            group = group_of(owed, village.today)
            if group is None:
                continue
            ident = (group, owed.item_id or owed.key) if owed.obligation_id is None else (group, owed.key)
            line = by_item.get(ident)
            if line is None:
                by_item[ident] = Line(index, group, owed, [owed.period or ""])
            else:
                line.periods.append(owed.period or "")
        result += sorted(by_item.values(), key=lambda ln: (GROUPS.index(ln.group), ln.first.due or date.max,
                                                           ln.first.key))
    return result


def page(found: list[VillageDue], number: int) -> dict[str, Any]:
    """The template context of page `number` (from 0; out of range: the last page)."""
    every = lines(found)
    pages = max(1, -(-len(every) // LINES_PER_PAGE))
    number = min(max(number, 0), pages - 1)
    shown = every[number * LINES_PER_PAGE:(number + 1) * LINES_PER_PAGE]
    counts: dict[tuple[int, str], int] = {}
    for line in every:
        counts[(line.village, line.group)] = counts.get((line.village, line.group), 0) + 1
    villages = []
    for index, village in enumerate(found):
        groups = []
        for group in GROUPS:
            mine = [ln.as_dict() for ln in shown if ln.village == index and ln.group == group]
            if mine:
                groups.append({"group": group, "count": counts[(index, group)], "lines": mine})
        first_page = number == 0
        owes = any(ln.village == index and ln.group != "met" for ln in every)
        if groups or (first_page and (village.problem is not None or not owes)):
            villages.append({
                "name": village.village.name, "today": village.today.isoformat(), "broken": village.problem is not None,
                "groups": groups, "open": owes,
                "first_page": first_page})
    return {"villages": villages, "page": number, "pages": pages}
