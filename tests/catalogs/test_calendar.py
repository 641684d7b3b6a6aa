"""The yearly calendar (data, text, JSON) and the village's local date."""

import json
from datetime import UTC, date, datetime

import pytest

from catalogs import Registry
from catalogs.calendar_view import align, borrowed, marked
from catalogs.deadlines import calendar, local_today, render_json


def test_calendar_rows(registry: Registry) -> None:
    rows = calendar(registry.profile("jiangyuan"), 2026)
    assert len(rows) == 1 + 4 + 12
    assert rows[0] == {"cadence": "monthly", "period": "2026-01", "due": "2026-02-10"}
    assert {"cadence": "quarterly", "period": "2026Q4", "due": "2027-01-10"} in rows
    assert rows[-1] == {"cadence": "annual", "period": "2026", "due": "2027-01-31"}
    assert [row["due"] for row in rows] == sorted(row["due"] for row in rows)


def test_same_day_rows_order_by_cadence(registry: Registry) -> None:
    rows = calendar(registry.profile("yubei"), 2026)
    same_day = [row["period"] for row in rows if row["due"] == "2026-04-15"]
    assert same_day == ["2026Q1", "2026-03"]


def test_render_json_round_trips(registry: Registry) -> None:
    profile = registry.profile("dawukou")
    assert json.loads(render_json(profile, 2028)) == calendar(profile, 2028)


def test_borrowed_rules_are_marked(registry: Registry) -> None:
    profile = registry.profile("dawukou")
    assert [(b.cadence, b.rule) for b in borrowed(profile)] == [("annual", "T-YEAR"), ("quarterly", "T-DAY30")]
    assert marked(profile.rule_for("quarterly")) == "T-DAY30 *" and marked(profile.rule_for("monthly")) == "T-DAY30"


def test_align_counts_cjk_characters_as_two_columns() -> None:
    assert align([("类别", "x"), ("annual", "yy"), ("季度", "z")]) == ["类别    x", "annual  yy", "季度    z"]


@pytest.mark.parametrize(
    ("tz", "now", "expected"),
    [
        (None, datetime(2026, 4, 2, 17, 0, tzinfo=UTC), date(2026, 4, 3)),  # default Asia/Shanghai
        ("", datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),
        ("Asia/Urumqi", datetime(2026, 4, 2, 17, 0, tzinfo=UTC), date(2026, 4, 2)),
        ("Asia/Shanghai", datetime(2026, 4, 2, 15, 59), date(2026, 4, 2)),  # naive = UTC
    ],
)
def test_local_today(tz: str | None, now: datetime, expected: date) -> None:
    assert local_today(tz, now) == expected


def test_local_today_other_default_and_unknown_zone() -> None:
    now = datetime(2026, 4, 2, 23, 30, tzinfo=UTC)
    assert local_today(None, now, default_tz="UTC") == date(2026, 4, 2)
    with pytest.raises(ValueError, match="unknown time zone: 'Mars/Olympus'"):
        local_today("Mars/Olympus", now)
