"""Public face of the pure due-date functions (no I/O, no clock: callers pass dates).

A due date is the last day on which publishing is still on time (DOMAIN.md, "Readings").
"""

from catalogs.calendar_view import calendar, render_json
from catalogs.dates import HOLIDAY_YEARS, holiday_data_covers, local_today, working_days_before
from catalogs.due import (
    LOCAL,
    QUESTION_REPLY,
    WEEKDAYS,
    due_date,
    event_due_date,
    event_notes,
    event_rules,
    period_notes,
    period_now_due,
    posting_end,
    resolve_event_rule,
    weekdays_only,
)
from catalogs.periods import Period, periods_of_year

__all__ = [
    "HOLIDAY_YEARS",
    "LOCAL",
    "QUESTION_REPLY",
    "WEEKDAYS",
    "Period",
    "calendar",
    "due_date",
    "event_due_date",
    "event_notes",
    "event_rules",
    "holiday_data_covers",
    "local_today",
    "period_notes",
    "period_now_due",
    "periods_of_year",
    "posting_end",
    "render_json",
    "resolve_event_rule",
    "weekdays_only",
    "working_days_before",
]
