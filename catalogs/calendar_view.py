"""A profile's due dates for one year, as data and as a text table or JSON."""

from __future__ import annotations

import json
from typing import Literal

from catalogs.due import due_date
from catalogs.periods import periods_of_year
from catalogs.profile import Profile, RuleRef
from catalogs.vocabulary import PERIODIC, Cadence

_HEADINGS = ("类别 cadence", "期间 period", "截止日 due", "规则 rule")
_CADENCE_ZH = {Cadence.ANNUAL: "年度", Cadence.QUARTERLY: "季度", Cadence.MONTHLY: "月度"}


def calendar(profile: Profile, year: int) -> list[dict[str, str]]:
    """Every period of every periodic cadence of `year` with its due date, sorted by due date."""
    rows = [
        {"cadence": cadence.value, "period": str(period), "due": due_date(profile, cadence, period).isoformat()}
        for cadence in PERIODIC
        for period in periods_of_year(cadence, year)
    ]
    order = {cadence.value: rank for rank, cadence in enumerate(PERIODIC)}
    return sorted(rows, key=lambda row: (row["due"], order[row["cadence"]], row["period"]))


def render_calendar(profile: Profile, year: int, fmt: Literal["text", "json"] = "text") -> str:
    if fmt == "json":
        return json.dumps(calendar(profile, year), ensure_ascii=False, indent=2)
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}; use 'text' or 'json'")
    return _text(profile, year)


def _text(profile: Profile, year: int) -> str:
    rows = [_row(profile, row) for row in calendar(profile, year)]
    widths = [max(_width(cell) for cell in column) for column in zip(_HEADINGS, *rows, strict=False)]
    lines = [f"{profile.names.zh} {profile.names.en} — {year} 公开日历 disclosure calendar", ""]
    lines += [_line(cells, widths) for cells in (_HEADINGS, *rows)]
    lines += ["", *_footnotes(profile)]
    return "\n".join(lines)


def _row(profile: Profile, row: dict[str, str]) -> tuple[str, str, str, str]:
    cadence = Cadence(row["cadence"])
    rule = profile.rule_for(cadence)
    return (f"{_CADENCE_ZH[cadence]} {cadence.value}", row["period"], row["due"], _marked(rule))


def _footnotes(profile: Profile) -> list[str]:
    notes = [
        f"* 借用规则 borrowed: {cadence.value} {rule.rule} from {rule.borrowed_from}"
        for cadence in PERIODIC
        if (rule := profile.rule_for(cadence)).borrowed
    ]
    return [
        *notes,
        f"公示期 keep: ≥ {profile.keep_days} 天 days ({_marked(profile.keep_rule)})",
        f"财务 finance: {_marked(profile.finance_rule)}: quarterly, monthly where transactions are many",
    ]


def _marked(rule: RuleRef) -> str:
    return f"{rule.rule} *" if rule.borrowed else rule.rule


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal; keep the table aligned.
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(cells, widths, strict=True)).rstrip()
