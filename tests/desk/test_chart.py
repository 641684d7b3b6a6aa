"""The township's chart (issue 15): villages ranked worst first, quarters before a village joined grey (not a
red 0 %), and a title with the township's name, the period in words and the generation date, in both languages."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from PIL import Image

from bot.ui.texts import Texts
from services.deadlines import compliance
from services.township.views import chart_title

NOW = datetime(2026, 4, 3, 2, tzinfo=UTC)


def _report() -> compliance.TownshipReport:
    quarters = ["2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    good = {q: compliance.Tally(on_time=4) for q in quarters}
    late = {"2025Q2": compliance.Tally(), "2025Q3": compliance.Tally(), "2025Q4": compliance.Tally(overdue=4),
            "2026Q1": compliance.Tally(on_time=1, overdue=3)}
    report = compliance.TownshipReport("hongqi", "红旗镇", "2026Q1", quarters)
    owed = [compliance.Owed(2, "k", "i", "2025Q4", "quarterly", date(2026, 1, 10), "overdue")]
    report.villages += [compliance.VillageReport("dongfeng", "东风村", good, [], 4, joined=date(2025, 1, 1)),
                        compliance.VillageReport("xinglong", "兴隆村", late, owed, 1, joined=date(2025, 12, 1))]
    return report


def test_the_worst_village_comes_first_and_quarters_before_joining_are_grey() -> None:
    report = _report()
    assert [v.code for v in compliance.ranked(report)] == ["xinglong", "dongfeng"]
    texts = Texts("zh")
    content = compliance.chart_png(report, compliance.legend(texts.plain, "zh"),
                                   chart_title(texts.plain, "zh", report, NOW))
    image = Image.open(io.BytesIO(content)).convert("RGB")

    def colour_at(column: int, row: int) -> str:
        x = (compliance.LEFT + (column + 0.15) * compliance.CELL_W) * compliance.DPI
        y = (compliance.TOP + (row + 0.2) * compliance.CELL_H) * compliance.DPI
        return "#{:02x}{:02x}{:02x}".format(*image.getpixel((round(x), round(y))))  # type: ignore[misc]

    c = compliance.COLOURS
    assert [colour_at(q, 0) for q in range(4)] == [c["na"], c["na"], c["overdue"], c["on_time"]]  # 兴隆村 first
    assert [colour_at(q, 1) for q in range(4)] == [c["on_time"]] * 4


def test_the_title_says_the_township_the_period_in_words_and_the_day_in_both_languages() -> None:
    report = _report()
    zh, en = Texts("zh"), Texts("en")
    (title, title_en), (period, period_en) = chart_title(zh.plain, "zh", report, NOW)
    assert title == "红旗镇 各村村务公开按时率（按差到好排列）"
    assert title_en == "红旗镇: on-time disclosure by village (worst first)"  # drawn when no CJK font is installed
    assert period == "2025年第二季度至2026年第一季度 · 生成日期 2026-04-03"
    assert period_en == "Q2 2025 to Q1 2026 · generated 2026-04-03"
    assert chart_title(en.plain, "en", report, NOW)[0] == ("红旗镇: on-time disclosure by village (worst first)",) * 2
    legend = compliance.legend(en.plain, "en")
    assert legend["na"] == ("Not applicable (before joining)",) * 2 and "fell due" in legend["columns"][0]
