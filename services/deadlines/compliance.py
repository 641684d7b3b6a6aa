"""Compliance for townships: per village the on-time rate by quarter, what is overdue, how many disclosures.

Counted per quarter by due date: an obligation belongs to the quarter in which it fell due. A quarter's
on-time rate is met-on-time over everything that has fallen due by today (still-open obligations whose
due date has not come are "pending" and not counted). The chart is drawn with matplotlib (Agg backend,
imported only when a chart is asked for, so start-up memory stays low).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import PERIODIC, Cadence, Period
from catalogs.due import due_date
from catalogs.periods import period_words
from models import Notice, Obligation, Township, Village
from services.deadlines.obligations import (
    COUNTED_STATES,
    DUE,
    MET_LATE,
    MET_ON_TIME,
    OVERDUE,
    Owed,
    Published,
    evaluate,
    joined_on,
    load_event_obligations,
    load_published,
    log_broken,
    periods_due_between,
    settings_problem,
    status_of,
)
from services.errors import DomainError
from services.policy import Policy

QUARTERS_SHOWN = 4


@dataclass
class Tally:
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    def add(self, status: str) -> None:
        if status == MET_ON_TIME:
            self.on_time += 1
        elif status == MET_LATE:
            self.late += 1
        elif status == OVERDUE:
            self.overdue += 1
        else:
            self.pending += 1

    @property
    def fallen_due(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        return self.on_time / self.fallen_due if self.fallen_due else None

    @property
    def percent(self) -> str:
        return "-" if self.rate is None else f"{round(self.rate * 100)}%"


@dataclass
class VillageReport:
    code: str
    name: str
    quarters: dict[str, Tally]
    overdue: list[Owed]
    disclosures: int
    problem: str | None = None  # the village's profile or catalog is unknown: nothing could be counted
    joined: date | None = None  # quarters ending before it are not applicable (grey, not a red 0 %)


@dataclass
class TownshipReport:
    code: str
    name: str
    quarter: str
    quarters: list[str]
    villages: list[VillageReport] = field(default_factory=list)


def parse_quarter(text: str) -> Period:
    try:
        period = Period.parse(text)
    except ValueError as error:
        raise DomainError("dl.bad_quarter", text=text[:20]) from error
    if period.cadence is not Cadence.QUARTERLY:
        raise DomainError("dl.bad_quarter", text=text[:20])
    return period


async def township_report(session: AsyncSession, policy: Policy, township: Township, quarter: Period,
                          now: datetime) -> TownshipReport:
    villages = {v.id or 0: v for v in await session.exec(
        select(Village).where(Village.township_id == township.id).order_by(col(Village.code)))}
    quarters = [quarter.shifted(-step) for step in reversed(range(QUARTERS_SHOWN))]
    report = TownshipReport(township.code, township.name, str(quarter), [str(q) for q in quarters])
    if not villages:
        return report
    published = await load_published(session, policy, villages)
    events = await load_event_obligations(session, list(villages))
    counts = await _disclosures(session, policy, villages, quarter)
    for vid, village in villages.items():
        problem = settings_problem(policy, village)
        if problem is not None:  # one village's bad settings must not hide the others
            log_broken(village.code, problem, f"the report of {township.code}")
            report.villages.append(VillageReport(village.code, village.name, {str(q): Tally() for q in quarters},
                                                 [], counts.get(vid, 0), problem, joined_on(policy, village)))
            continue
        today = policy.today(village, now)
        tallies = {str(q): _tally(policy, village, q, published, events.get(vid, []), today) for q in quarters}
        owed = evaluate(policy, village, today, published, [e for e in events.get(vid, []) if not e.met_notice_id])
        overdue = sorted((o for o in owed if o.status == OVERDUE), key=lambda o: (o.due, o.key))
        report.villages.append(VillageReport(village.code, village.name, tallies, overdue, counts.get(vid, 0),
                                             joined=joined_on(policy, village)))
    return report


def _tally(policy: Policy, village: Village, quarter: Period, published: Published, events: list[Obligation],
           today: date) -> Tally:
    """The obligations that fall due within the quarter, by status; periods due before the village
    joined are not owed (obligations.joined_on), as everywhere else."""
    tally = Tally()
    profile, catalog = policy.profile_for(village), policy.catalog_for(village)
    first = max(quarter.start, joined_on(policy, village))
    by_cadence: dict[Cadence, list[Period]] = {}
    for item in catalog.items():
        cadence = item.effective_cadence(village.monthly_finance)
        if cadence not in PERIODIC:
            continue
        if cadence not in by_cadence:
            by_cadence[cadence] = periods_due_between(profile, cadence, first, quarter.end)
        for period in by_cadence[cadence]:
            days = published.get((village.id or 0, item.full_id, str(period)), [])
            tally.add(status_of(due_date(profile, cadence, period), days, today)[0])
    for row in events:
        if quarter.start <= row.due <= quarter.end:
            met = [policy.today(village, row.met_at)] if row.met_at else []
            tally.add(status_of(row.due, met, today)[0])
    return tally


async def _disclosures(session: AsyncSession, policy: Policy, villages: dict[int, Village],
                       quarter: Period) -> dict[int, int]:
    """Published disclosures (corrections not counted again) whose local publication day is in the quarter."""
    start = datetime.combine(quarter.start - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(quarter.end + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    rows = await session.exec(select(Notice.village_id, Notice.published_at).where(
        col(Notice.village_id).in_(list(villages)), col(Notice.state).in_(COUNTED_STATES),
        col(Notice.corrects_id).is_(None), col(Notice.published_at) >= start, col(Notice.published_at) < end))
    counts: dict[int, int] = {}
    for vid, published_at in rows:
        if published_at is not None and quarter.start <= policy.today(villages[vid], published_at) <= quarter.end:
            counts[vid] = counts.get(vid, 0) + 1
    return counts


async def township_by_code(session: AsyncSession, code: str) -> Township:
    township = (await session.exec(select(Township).where(Township.code == code))).first()
    if township is None:
        raise DomainError("dl.no_township", code=code)
    return township


CSV_FIELDS = ("village", "name", "quarter", "on_time", "late", "overdue", "pending", "on_time_rate",
              "disclosures", "overdue_now", "settings_problem")


def as_csv(report: TownshipReport, headings: Sequence[str] = CSV_FIELDS, lang: str = "") -> str:
    """`headings`: the column names in the reader's language (the caller's texts); `lang`: quarters in its
    words ("2026年第一季度"), or as codes ("2026Q1") when empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headings)
    for village in report.villages:
        for quarter in report.quarters:
            tally = village.quarters[quarter]
            rate = "" if tally.rate is None else f"{tally.rate:.3f}"
            shown = period_words(quarter, lang) if lang else quarter
            writer.writerow([village.code, village.name, shown, tally.on_time, tally.late, tally.overdue, tally.pending,
                             rate, village.disclosures if quarter == report.quarter else "",
                             len(village.overdue) if quarter == report.quarter else "", village.problem or ""])
    return out.getvalue()


# --- the chart ---------------------------------------------------------------------------------------------

DPI = 100
CELL_W, CELL_H, LEFT, TOP, LEGEND = 1.1, 0.45, 1.9, 1.1, 1.1  # inches
STATUSES = ("on_time", "late", "overdue", "pending")  # a cell's bar, left to right, in this order
COLOURS = {"on_time": "#2e7d32", "late": "#f9a825", "overdue": "#c62828", "pending": "#90a4ae",
           "none": "#e0e0e0", "na": "#bdbdbd", "broken": "#757575"}
LEGEND_KEYS = (*STATUSES, "none", "na", "broken")
NOTE = "columns"  # the legend's line saying what a column and a cell are
CJK_HINTS = ("CJK", "WenQuanYi", "Hei", "Song", "Ming", "Droid Sans Fallback", "Source Han")


Labels = dict[str, tuple[str, str]]  # legend key -> (the reader's language, English for a font without CJK)


def legend(t: Callable[[str, str], str], lang: str) -> Labels:
    """The legend's words from the caller's texts (services hold no user-facing text): the reader's
    language, and English for when no CJK font is installed (a missing glyph would print as a box)."""
    return {key: (t(lang, f"dl.chart.{key}"), t("en", f"dl.chart.{key}")) for key in (*LEGEND_KEYS, NOTE)}


def chart_size(villages: int, quarters: int) -> tuple[int, int]:
    """Width and height in pixels of the chart of `villages` rows and `quarters` columns."""
    return (round((LEFT + CELL_W * max(quarters, 4)) * DPI),
            round((TOP + CELL_H * max(villages, 1) + LEGEND) * DPI))


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if any(hint in font.name for hint in CJK_HINTS):
            return str(font.name)
    return None


def cell_segments(tally: Tally) -> list[tuple[str, float]]:
    """A cell's bar: the share of its obligations in each status, in STATUSES order (empty: none)."""
    counts = {"on_time": tally.on_time, "late": tally.late, "overdue": tally.overdue, "pending": tally.pending}
    total = sum(counts.values())
    return [(status, counts[status] / total) for status in STATUSES if counts[status]] if total else []


def ranked(report: TownshipReport) -> list[VillageReport]:
    """Worst first: most overdue now, then the lowest on-time rate in the report's quarter."""
    def key(village: VillageReport) -> tuple[int, int, float, str]:
        rate = village.quarters[report.quarter].rate
        return (village.problem is not None, -len(village.overdue), 1.0 if rate is None else rate, village.code)

    return sorted(report.villages, key=key)


def not_applicable(village: VillageReport, quarter: str) -> bool:
    """The quarter ended before the village joined: nothing in it was owed."""
    return village.joined is not None and Period.parse(quarter).end < village.joined


Title = tuple[tuple[str, str], ...]  # lines, each (the reader's language, English)


def chart_png(report: TownshipReport, labels: Labels, title: Title = (), lang: str = "zh") -> bytes:
    """Villages (ranked, worst first) x quarters; each cell a bar of its obligations coloured by status
    (met on time, met late, overdue, not yet due), with the on-time rate printed on it; quarters in words;
    quarters before the village joined grey; a title (the township's name, the period in words, the generation
    date) and a legend underneath that also says what a column is. Village names when a CJK font is installed,
    otherwise their codes (a missing glyph would print as boxes)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    font = _cjk_font()
    family = font or "DejaVu Sans"
    words = lang if font else "en"  # without a CJK font the chart is English (a missing glyph prints a box)
    rows, cols = max(len(report.villages), 1), len(report.quarters)
    width, height = chart_size(rows, cols)
    fig = plt.figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    try:
        grid_h = CELL_H * rows * DPI / height
        ax = fig.add_axes((LEFT * DPI / width, LEGEND * DPI / height, CELL_W * cols * DPI / width, grid_h))
        ax.set_xlim(0, cols)
        ax.set_ylim(0, rows)
        ax.invert_yaxis()
        villages = ranked(report)
        for r, village in enumerate(villages):
            for c, quarter in enumerate(report.quarters):
                _cell(ax, Rectangle, c, r, village, village.quarters[quarter], not_applicable(village, quarter))
        names = [f"{r}. {v.name if font else v.code}" for r, v in enumerate(villages, 1)]
        ax.set_yticks([r + 0.5 for r in range(len(names))], names, fontsize=8, fontfamily=family)
        ax.set_xticks([c + 0.5 for c in range(cols)], [period_words(q, words) for q in report.quarters], fontsize=8,
                      fontfamily=family)
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        handles = [Patch(facecolor=COLOURS[key], hatch="//" if key == "broken" else None,
                         label=labels[key][0 if font else 1]) for key in LEGEND_KEYS]
        fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False,
                   prop={"family": family, "size": 7}, bbox_to_anchor=(0.5, 0.2 * DPI / height))
        fig.text(0.5, 0.08 * DPI / height, labels[NOTE][0 if font else 1], ha="center", fontsize=6,
                 fontfamily=family, color="#424242")
        lines = [line[0 if font else 1] for line in title] or [f"{report.name if font else report.code} "
                                                               f"{period_words(report.quarter, words)}"]
        fig.suptitle("\n".join(lines), fontsize=9, y=1 - 0.08 * DPI / height, fontfamily=family)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _cell(ax: Any, rectangle: Any, c: int, r: int, village: VillageReport, tally: Tally, na: bool) -> None:
    if na:
        ax.add_patch(rectangle((c, r), 1, 1, facecolor=COLOURS["na"], edgecolor="white"))
        return
    if village.problem is not None:
        ax.add_patch(rectangle((c, r), 1, 1, facecolor=COLOURS["broken"], hatch="//", edgecolor="white"))
        return
    segments = cell_segments(tally)
    if not segments:
        ax.add_patch(rectangle((c, r), 1, 1, facecolor=COLOURS["none"], edgecolor="white"))
        return
    left = float(c)
    for status, share in segments:
        ax.add_patch(rectangle((left, r), share, 1, facecolor=COLOURS[status], edgecolor="none"))
        left += share
    ax.add_patch(rectangle((c, r), 1, 1, fill=False, edgecolor="white", linewidth=2))
    ax.text(c + 0.5, r + 0.5, tally.percent, ha="center", va="center", fontsize=8, color="white",
            fontweight="bold")


async def township_chart(session: AsyncSession, policy: Policy, township_id: int, quarter: str,
                         now: datetime, labels: Labels,
                         title: Callable[[TownshipReport], Title] | None = None,
                         lang: str = "zh") -> tuple[TownshipReport, bytes]:
    township = await session.get(Township, township_id)
    if township is None:
        raise DomainError("dl.no_township", code=str(township_id))
    report = await township_report(session, policy, township, parse_quarter(quarter), now)
    return report, chart_png(report, labels, title(report) if title else (), lang)


__all__ = ["DUE", "TownshipReport", "as_csv", "chart_png", "chart_size", "township_report"]
