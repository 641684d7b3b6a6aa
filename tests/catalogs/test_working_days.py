"""Working days on China's official calendar: holidays skipped, make-up Saturdays and Sundays counted;
a year beyond the holiday data falls back to Monday-Friday and says so (T-AGENDA3)."""

from datetime import date

import pytest

from catalogs import Registry
from catalogs.dates import HOLIDAY_YEARS, holiday_data_covers, is_working_day
from catalogs.deadlines import event_due_date, weekdays_only, working_days_before


@pytest.mark.parametrize(
    ("meeting", "due", "weekdays_would_give"),
    [
        # Spring Festival 2025: 28 Jan - 4 Feb off; Sunday 26 Jan and Saturday 8 Feb are make-up working days
        (date(2025, 2, 5), date(2025, 1, 24), date(2025, 1, 31)),  # Mon 27, Sun 26 (make-up), Fri 24
        (date(2025, 2, 10), date(2025, 2, 6), date(2025, 2, 5)),  # Sat 8 (make-up), Fri 7, Thu 6
        # Spring Festival 2026: 15-23 Feb off; Saturdays 14 and 28 Feb are make-up working days
        (date(2026, 2, 24), date(2026, 2, 12), date(2026, 2, 19)),  # Sat 14 (make-up), Fri 13, Thu 12
        (date(2026, 3, 2), date(2026, 2, 26), date(2026, 2, 25)),  # Sat 28 (make-up), Fri 27, Thu 26
        # National Day 2025: 1-8 Oct off; Sunday 28 Sep and Saturday 11 Oct are make-up working days
        (date(2025, 10, 9), date(2025, 9, 28), date(2025, 10, 6)),  # Tue 30, Mon 29, Sun 28 (make-up)
        (date(2025, 10, 13), date(2025, 10, 9), date(2025, 10, 8)),  # Sat 11 (make-up), Fri 10, Thu 9
        # National Day 2026: 1-7 Oct off; Sunday 20 Sep and Saturday 10 Oct are make-up working days
        (date(2026, 10, 8), date(2026, 9, 28), date(2026, 10, 5)),  # Wed 30, Tue 29, Mon 28
        (date(2026, 10, 12), date(2026, 10, 8), date(2026, 10, 7)),  # Sat 10 (make-up), Fri 9, Thu 8
        (date(2026, 9, 22), date(2026, 9, 18), date(2026, 9, 17)),  # Mon 21, Sun 20 (make-up), Fri 18
    ],
)
def test_agenda_across_holiday_weeks(registry: Registry, meeting: date, due: date, weekdays_would_give: date) -> None:
    assert working_days_before(meeting, 3) == due
    assert due != weekdays_would_give  # the table is not the Monday-Friday count in disguise
    for profile in ("jiangyuan", "yaoan"):
        chosen = registry.profile(profile)
        assert event_due_date(chosen, "agenda", meeting) == due
        assert not weekdays_only(chosen, "agenda", meeting)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 2, 14), True),  # Saturday, make-up day
        (date(2026, 2, 16), False),  # Monday, Spring Festival
        (date(2026, 9, 20), True),  # Sunday, make-up day
        (date(2026, 10, 5), False),  # Monday, National Day
        (date(2026, 10, 11), False),  # an ordinary Sunday
    ],
)
def test_official_calendar_days(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_a_year_beyond_the_data_falls_back_to_weekdays_and_says_so(registry: Registry) -> None:
    beyond = HOLIDAY_YEARS.stop
    meeting = date(beyond, 2, 15)
    while meeting.weekday() != 0:  # a Monday
        meeting = meeting.replace(day=meeting.day + 1)
    due = event_due_date(registry.profile("jiangyuan"), "agenda", meeting)
    assert due == date(beyond, meeting.month, meeting.day - 5)  # the Wednesday before: weekdays only
    assert not holiday_data_covers(meeting)
    assert weekdays_only(registry.profile("jiangyuan"), "agenda", meeting)
    assert not weekdays_only(registry.profile("jiangyuan"), "adhoc", meeting)  # calendar days: no holidays involved
    # the first working days of a covered year looked back into from an uncovered one
    assert weekdays_only(registry.profile("yubei"), "agenda", date(beyond, 1, 4)) is True
