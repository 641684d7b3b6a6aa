"""Date arithmetic the rules need: clamped days of a month, working days, the village's today."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from catalogs.periods import month_end


def day_of_month_clamped(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or its last day when the month is shorter (T-DAY30: February)."""
    last = month_end(year, month)
    return last if day > last.day else date(year, month, day)


def day_of_following_month(after: date, day: int) -> date:
    """Day `day` of the month after the one containing `after`, clamped to that month's length."""
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return day_of_month_clamped(year, month, day)


def is_working_day(day: date) -> bool:
    # Monday-Friday only: the seeds give no holiday calendar, and a national one would be a guess.
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
