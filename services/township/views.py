"""The ranking as plain values for the templates of both the bot (/report) and the console, and the chart's
title. Words come from the caller's texts (`t(lang, key, **params)`): services hold none of their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from catalogs import Period
from services.deadlines.compliance import TownshipReport
from services.township.ranking import Ranking, TownshipRank, VillageRank

SHOWN = 10  # villages listed by /report (a phone screen); the console lists them all
WORST = 20  # the county's worst villages under its townships (the county's view)
Words = Callable[..., str]


def village_view(row: VillageRank, named: int = 3) -> dict[str, object]:
    return {"id": row.village_id, "rank": row.rank, "code": row.code, "name": row.name, "township": row.township,
            "overdue": row.overdue_count, "days_late": row.days_late, "longest": row.longest,
            "quarter": row.quarter.percent, "year": row.year.percent, "questions": row.questions_late,
            "petitions": row.petitions_waiting, "broken": row.problem is not None, "needs": row.needs_action,
            "owed": [{"zh": o.zh, "en": o.en, "period": o.period or "", "due": o.due.isoformat() if o.due else "",
                      "key": o.key} for o in row.first_overdue(named)],
            "more": max(0, row.overdue_count - named)}


def ranking_view(ranking: Ranking, today: date, shown: int | None = SHOWN) -> dict[str, object]:
    villages = ranking.villages if shown is None else ranking.villages[:shown]
    return {"township": "、".join(t.name for t in ranking.townships), "quarter": ranking.quarter,
            "year": ranking.year, "today": today.isoformat(), "count": len(ranking.villages),
            "needing": len(ranking.needing_action), "overdue": ranking.overdue,
            "quarter_rate": ranking.total("quarter").percent, "year_rate": ranking.total("year").percent,
            "questions": ranking.questions_late, "petitions": ranking.petitions_waiting,
            "villages": [village_view(v) for v in villages], "hidden": len(ranking.villages) - len(villages)}


def township_view(row: TownshipRank) -> dict[str, object]:
    return {"rank": row.rank, "code": row.township.code, "name": row.township.name, "villages": row.villages,
            "needing": row.needing, "overdue": row.overdue, "days_late": row.days_late,
            "quarter": row.quarter.percent, "year": row.year.percent, "questions": row.questions_late,
            "petitions": row.petitions_waiting}


def county_view(ranking: Ranking, townships: list[TownshipRank], today: date, worst: int = WORST) -> dict[str, object]:
    """The county's view: the townships ranked, and the county's worst villages (each township's page has all
    of its own)."""
    view = ranking_view(ranking, today, shown=worst)
    view["townships"] = [township_view(row) for row in townships]
    return view


def quarter_words(t: Words, lang: str, code: str) -> str:
    period = Period.parse(code)
    return t(lang, "desk.quarter", year=period.year, q=t(lang, f"desk.q{period.index}"))


def chart_title(t: Words, lang: str, report: TownshipReport, now: datetime) -> tuple[tuple[str, str], ...]:
    """The chart's two lines (title; period and generation date), each in the reader's language and in
    English for when no CJK font is installed."""
    def lines(words_lang: str) -> tuple[str, str]:
        first, last = report.quarters[0], report.quarters[-1]
        return (t(words_lang, "desk.chart.title", township=report.name),
                t(words_lang, "desk.chart.period", first=quarter_words(t, words_lang, first),
                  last=quarter_words(t, words_lang, last), day=now.date().isoformat()))

    mine, english = lines(lang), lines("en")
    return (mine[0], english[0]), (mine[1], english[1])
