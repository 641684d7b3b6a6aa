"""Public face of the pure due-date functions (no I/O, no clock: callers pass dates).

A due date is the last day on which publishing is still on time (DOMAIN.md, "Readings").
"""

from catalogs.calendar_view import calendar, render_json
from catalogs.dates import local_today, working_days_before
from catalogs.due import (
    QUESTION_REPLY,
    due_date,
    event_due_date,
    event_rules,
    period_now_due,
    posting_end,
    resolve_event_rule,
)
from catalogs.periods import Period, periods_of_year

__all__ = [
    "QUESTION_REPLY",
    "Period",
    "calendar",
    "due_date",
    "event_due_date",
    "event_rules",
    "local_today",
    "period_now_due",
    "periods_of_year",
    "posting_end",
    "render_json",
    "resolve_event_rule",
    "working_days_before",
]
