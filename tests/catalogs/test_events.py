"""Event-driven rules: T-NOW, T-ADHOC10, T-STAGED, T-PLAN2, T-ELECT, T-AGENDA3, question replies, T-KEEP."""

from datetime import date

import pytest

from catalogs import CatalogError, Registry
from catalogs.dates import day_of_following_month, working_days_before
from catalogs.deadlines import event_due_date, posting_end

PROFILES = ["jiangyuan", "yubei", "dawukou", "yaoan"]

# (key or rule id, event date, due) — identical in every profile (where borrowed, the same rule is borrowed).
EVENTS = [
    ("immediate", date(2026, 4, 3), date(2026, 4, 3)),  # T-NOW
    ("T-NOW", date(2026, 12, 31), date(2026, 12, 31)),
    ("adhoc", date(2026, 12, 25), date(2027, 1, 4)),  # T-ADHOC10 across the year
    ("T-ADHOC10", date(2028, 2, 20), date(2028, 3, 1)),  # leap February
    ("adhoc", date(2026, 2, 20), date(2026, 3, 2)),  # non-leap February
    ("staged.before", date(2026, 5, 1), date(2026, 5, 1)),  # T-STAGED: on or before the start
    ("staged.during", date(2026, 6, 25), date(2026, 7, 5)),
    ("staged.after", date(2026, 12, 28), date(2027, 1, 7)),
    ("plan", date(2026, 12, 30), date(2027, 1, 1)),  # T-PLAN2
    ("T-PLAN2", date(2028, 2, 28), date(2028, 3, 1)),
    ("election_voter_list", date(2026, 6, 20), date(2026, 5, 31)),  # T-ELECT: election day - 20
    ("election_voter_list", date(2026, 3, 10), date(2026, 2, 18)),
    ("election_candidates", date(2026, 6, 20), date(2026, 6, 13)),  # election day - 7
    ("election_results", date(2026, 6, 30), date(2026, 6, 30)),  # T-ELECT: the result on election day
    ("election_certificates", date(2026, 6, 30), date(2026, 7, 3)),  # certificates within 3 days of it
    ("agenda", date(2026, 3, 12), date(2026, 3, 9)),  # T-AGENDA3: Thursday meeting -> Monday
    ("T-AGENDA3", date(2026, 3, 9), date(2026, 3, 4)),  # Monday meeting -> previous Wednesday
    ("agenda", date(2026, 4, 9), date(2026, 4, 3)),  # Qingming (4-6 April) is no working day
    ("question_reply", date(2026, 12, 28), date(2027, 1, 7)),  # question_reply_days = 10
]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("key", "event", "due"), EVENTS)
def test_event_due_date(registry: Registry, profile: str, key: str, event: date, due: date) -> None:
    assert event_due_date(registry.profile(profile), key, event) == due


@pytest.mark.parametrize(
    ("meeting", "due"),
    [
        (date(2026, 3, 9), date(2026, 3, 4)),  # Monday -> Wednesday before (skips the weekend)
        (date(2026, 3, 10), date(2026, 3, 5)),  # Tuesday -> Thursday before
        (date(2026, 3, 11), date(2026, 3, 6)),  # Wednesday -> Friday before
        (date(2026, 3, 12), date(2026, 3, 9)),  # Thursday -> Monday
        (date(2026, 3, 13), date(2026, 3, 10)),  # Friday -> Tuesday
        (date(2026, 3, 14), date(2026, 3, 11)),  # Saturday meeting -> Wednesday
        (date(2026, 3, 15), date(2026, 3, 11)),  # Sunday meeting -> Wednesday
        (date(2026, 5, 14), date(2026, 5, 11)),  # an ordinary week of 2026 (holiday-calendar weeks: test_working_days)
    ],
)
def test_agenda_three_working_days_across_weekends(meeting: date, due: date) -> None:
    assert date(2026, 3, 9).weekday() == 0  # the table assumes 9 March 2026 is a Monday (no holiday that week)
    assert working_days_before(meeting, 3) == due
    assert due.weekday() < 5


@pytest.mark.parametrize(
    ("profile", "published", "down_from", "rule"),
    [
        ("jiangyuan", date(2026, 4, 3), date(2026, 4, 13), "T-KEEP10"),
        ("yubei", date(2026, 12, 28), date(2027, 1, 7), "T-KEEP10"),
        ("dawukou", date(2026, 4, 3), date(2026, 4, 10), "T-KEEP7"),
        ("dawukou", date(2028, 2, 25), date(2028, 3, 3), "T-KEEP7"),
        ("yaoan", date(2026, 2, 25), date(2026, 3, 7), "T-KEEP10"),
    ],
)
def test_posting_end(registry: Registry, profile: str, published: date, down_from: date, rule: str) -> None:
    chosen = registry.profile(profile)
    assert posting_end(chosen, published) == down_from
    assert chosen.keep_rule.rule == rule


@pytest.mark.parametrize("key", ["staged", "T-ELECT", "T-STAGED"])
def test_ambiguous_event_key_names_the_choices(registry: Registry, key: str) -> None:
    with pytest.raises(CatalogError, match="ambiguous"):
        event_due_date(registry.profile("jiangyuan"), key, date(2026, 1, 1))


@pytest.mark.parametrize("key", ["weekly", "quarterly", "T-Q10"])
def test_unknown_or_periodic_event_key(registry: Registry, key: str) -> None:
    with pytest.raises(CatalogError, match="no event rule"):
        event_due_date(registry.profile("jiangyuan"), key, date(2026, 1, 1))


def test_day_of_following_month_clamps_short_months() -> None:
    assert day_of_following_month(date(2026, 3, 31), 31) == date(2026, 4, 30)  # April has no 31st
    assert day_of_following_month(date(2026, 1, 31), 30) == date(2026, 2, 28)
    assert day_of_following_month(date(2028, 1, 31), 30) == date(2028, 2, 29)
    assert day_of_following_month(date(2026, 12, 31), 31) == date(2027, 1, 31)


@pytest.mark.parametrize("profile", PROFILES)
def test_what_no_seed_states_is_a_local_reading(registry: Registry, profile: str) -> None:
    """Issue 16: every date the seeds do not state is said to be a local reading (in words, by the bot)."""
    from catalogs.deadlines import LOCAL, event_notes

    chosen = registry.profile(profile)
    assert event_notes(chosen, "question_reply", date(2026, 5, 1)) == (LOCAL,)  # no seed sets 10 days
    assert event_notes(chosen, "election_results", date(2026, 5, 1)) == (LOCAL,)  # 003 dates the certificates only
    certificates = event_notes(chosen, "election_certificates", date(2026, 5, 1))
    assert certificates == (() if profile == "yaoan" else (LOCAL,))  # 003 states it; others borrow it
