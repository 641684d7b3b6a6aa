"""Date arithmetic the rules need: clamped days of a month, working days, the village's today.

Working days follow China's official calendar of public holidays and make-up working days (调休), as the
State Council publishes it each year, through the `chinese-calendar` package (a well-kept table of those
notices). A date in a year the table does not cover yet falls back to Monday-Friday, and whoever shows the
date says so (`holiday_data_covers`).
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from catalogs.periods import month_end

# The years the holiday table covers (2004 to the newest published notice).
HOLIDAY_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


def day_of_month_clamped(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or its last day when the month is shorter (T-DAY30: February)."""
    last = month_end(year, month)
    return last if day > last.day else date(year, month, day)


def day_of_following_month(after: date, day: int) -> date:
    """Day `day` of the month after the one containing `after`, clamped to that month's length."""
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return day_of_month_clamped(year, month, day)


def holiday_data_covers(*days: date) -> bool:
    """Whether every one of these days falls in a year whose holidays and make-up days are known."""
    return all(day.year in HOLIDAY_YEARS for day in days)


def is_working_day(day: date) -> bool:
    """A working day on China's official calendar (a make-up Saturday counts, a holiday Monday does not);
    Monday-Friday in a year the holiday table does not cover."""
    if day.year in HOLIDAY_YEARS:
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def working_days_before(day: date, count: int) -> date:
    """The date `count` working days before `day` (exclusive): Monday meeting, 3 days -> previous Wednesday."""
    current = day
    for _ in range(count):
        current -= timedelta(days=1)
        while not is_working_day(current):
            current -= timedelta(days=1)
    return current


def local_today(tz_name: str | None, now_utc: datetime, default_tz: str = "Asia/Shanghai") -> date:
    """Today's date in the village's time zone; a village with no time zone uses the default.

    A naive `now_utc` is taken as UTC. An unknown zone name raises ValueError rather than silently
    shifting every due date by hours.
    """
    name = tz_name or default_tz
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone: {name!r}") from error
    aware = now_utc if now_utc.tzinfo else now_utc.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()
