"""Period value type: parsing, bounds, stepping, and the period a clerk is drafting today."""

from datetime import date

import pytest

from catalogs.deadlines import Period, period_now_due, periods_of_year
from catalogs.vocabulary import Cadence


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-04", date(2026, 4, 1), date(2026, 4, 30)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_parse_bounds_and_round_trip(text: str, start: date, end: date) -> None:
    period = Period.parse(text)
    assert (period.start, period.end, str(period)) == (start, end, text)


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "2026-13", "2026-00", "2026-3", "26", "", "Q1 2026"])
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="not a period"):
        Period.parse(text)


@pytest.mark.parametrize(
    ("text", "following", "previous"),
    [
        ("2026Q4", "2027Q1", "2026Q3"),
        ("2026Q1", "2026Q2", "2025Q4"),
        ("2026-12", "2027-01", "2026-11"),
        ("2026-01", "2026-02", "2025-12"),
        ("2026", "2027", "2025"),
    ],
)
def test_next_and_prev_cross_year_boundaries(text: str, following: str, previous: str) -> None:
    period = Period.parse(text)
    assert (str(period.next()), str(period.prev())) == (following, previous)


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        ("quarterly", date(2026, 3, 31), "2026Q1"),
        ("quarterly", date(2026, 4, 1), "2026Q2"),
        ("monthly", date(2028, 2, 29), "2028-02"),
        ("annual", date(2026, 12, 31), "2026"),
    ],
)
def test_containing(cadence: str, day: date, expected: str) -> None:
    assert str(Period.containing(cadence, day)) == expected


@pytest.mark.parametrize("cadence", ["long_term", "adhoc", "immediate", "staged"])
def test_event_cadences_have_no_periods(cadence: str) -> None:
    with pytest.raises(ValueError, match="has no periods"):
        Period.containing(cadence, date(2026, 1, 1))


def test_periods_of_year() -> None:
    assert [str(p) for p in periods_of_year("quarterly", 2026)] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert [str(p) for p in periods_of_year(Cadence.MONTHLY, 2026)][::11] == ["2026-01", "2026-12"]
    assert [str(p) for p in periods_of_year("annual", 2026)] == ["2026"]


@pytest.mark.parametrize(
    ("cadence", "today", "expected"),
    [
        ("quarterly", date(2026, 4, 3), "2026Q1"),
        ("quarterly", date(2026, 1, 5), "2025Q4"),
        ("monthly", date(2026, 4, 3), "2026-03"),
        ("monthly", date(2026, 1, 1), "2025-12"),
        ("annual", date(2026, 1, 20), "2025"),
    ],
)
def test_period_now_due_is_the_last_ended_period(cadence: str, today: date, expected: str) -> None:
    assert str(period_now_due(cadence, today)) == expected


def test_periods_are_hashable_values() -> None:
    assert Period.parse("2026Q1") == Period(Cadence.QUARTERLY, 2026, 1)
    assert len({Period.parse("2026-03"), Period.parse("2026-03")}) == 1
