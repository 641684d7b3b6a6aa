"""Due dates for every profile x periodic cadence, on quarter, month and year boundaries and in February."""

from datetime import date

import pytest

from catalogs import Registry
from catalogs.deadlines import Period, due_date

# (profile, cadence, period, due, rule id the profile cites)
TABLE = [
    # jiangyuan (000): T-Q10; monthly borrowed = 10 days after the month; annual borrowed = 31 January.
    ("jiangyuan", "quarterly", "2026Q1", date(2026, 4, 10), "T-Q10"),
    ("jiangyuan", "quarterly", "2026Q2", date(2026, 7, 10), "T-Q10"),
    ("jiangyuan", "quarterly", "2026Q3", date(2026, 10, 10), "T-Q10"),
    ("jiangyuan", "quarterly", "2026Q4", date(2027, 1, 10), "T-Q10"),
    ("jiangyuan", "monthly", "2026-01", date(2026, 2, 10), "T-FIN-Q"),
    ("jiangyuan", "monthly", "2026-02", date(2026, 3, 10), "T-FIN-Q"),
    ("jiangyuan", "monthly", "2028-02", date(2028, 3, 10), "T-FIN-Q"),
    ("jiangyuan", "monthly", "2026-04", date(2026, 5, 10), "T-FIN-Q"),
    ("jiangyuan", "monthly", "2026-12", date(2027, 1, 10), "T-FIN-Q"),
    ("jiangyuan", "annual", "2026", date(2027, 1, 31), "T-YEAR"),
    # yubei (001): T-Q15, T-M15 ("before the 15th" read as on or before).
    ("yubei", "quarterly", "2026Q1", date(2026, 4, 15), "T-Q15"),
    ("yubei", "quarterly", "2026Q4", date(2027, 1, 15), "T-Q15"),
    ("yubei", "monthly", "2026-03", date(2026, 4, 15), "T-M15"),
    ("yubei", "monthly", "2026-01", date(2026, 2, 15), "T-M15"),
    ("yubei", "monthly", "2028-02", date(2028, 3, 15), "T-M15"),
    ("yubei", "monthly", "2026-12", date(2027, 1, 15), "T-M15"),
    ("yubei", "annual", "2026", date(2027, 1, 31), "T-YEAR"),
    # dawukou (002): T-DAY30 on the month after; February -> its last day; quarterly borrowed.
    ("dawukou", "monthly", "2026-01", date(2026, 2, 28), "T-DAY30"),
    ("dawukou", "monthly", "2028-01", date(2028, 2, 29), "T-DAY30"),
    ("dawukou", "monthly", "2026-02", date(2026, 3, 30), "T-DAY30"),
    ("dawukou", "monthly", "2026-03", date(2026, 4, 30), "T-DAY30"),
    ("dawukou", "monthly", "2026-06", date(2026, 7, 30), "T-DAY30"),
    ("dawukou", "monthly", "2026-12", date(2027, 1, 30), "T-DAY30"),
    ("dawukou", "quarterly", "2026Q1", date(2026, 4, 30), "T-DAY30"),
    ("dawukou", "quarterly", "2026Q4", date(2027, 1, 30), "T-DAY30"),
    ("dawukou", "annual", "2026", date(2027, 1, 31), "T-YEAR"),
    # yaoan (003): T-YEAR native; the rest borrowed from 000.
    ("yaoan", "annual", "2026", date(2027, 1, 31), "T-YEAR"),
    ("yaoan", "quarterly", "2026Q4", date(2027, 1, 10), "T-Q10"),
    ("yaoan", "monthly", "2028-02", date(2028, 3, 10), "T-FIN-Q"),
]


@pytest.mark.parametrize(("profile", "cadence", "period", "due", "rule"), TABLE)
def test_due_date(registry: Registry, profile: str, cadence: str, period: str, due: date, rule: str) -> None:
    chosen = registry.profile(profile)
    assert due_date(chosen, cadence, Period.parse(period)) == due
    assert due_date(chosen, cadence, period) == due  # a period string is accepted too
    assert chosen.rule_for(cadence).rule == rule


def test_every_profile_and_periodic_cadence_is_in_the_table(registry: Registry) -> None:
    covered = {(profile, cadence) for profile, cadence, *_ in TABLE}
    assert covered == {(p, c) for p in registry.profiles for c in ("annual", "quarterly", "monthly")}


@pytest.mark.parametrize(
    ("profile", "cadence", "borrowed"),
    [
        ("jiangyuan", "quarterly", False),
        ("jiangyuan", "monthly", True),
        ("jiangyuan", "annual", True),
        ("yubei", "quarterly", False),
        ("yubei", "monthly", False),
        ("yubei", "annual", True),
        ("dawukou", "monthly", False),
        ("dawukou", "quarterly", True),
        ("dawukou", "annual", True),
        ("yaoan", "annual", False),
    ],
)
def test_borrowed_rules_are_marked(registry: Registry, profile: str, cadence: str, borrowed: bool) -> None:
    rule = registry.profile(profile).rule_for(cadence)
    assert rule.borrowed is borrowed
    assert bool(rule.borrowed_from) is borrowed


def test_long_term_has_no_due_date(registry: Registry) -> None:
    profile = registry.profile("jiangyuan")
    assert profile.rule_for("long_term").rule == "T-LONG"
    with pytest.raises(ValueError, match="has no periods"):
        due_date(profile, "long_term", "2026")


def test_period_must_match_cadence(registry: Registry) -> None:
    with pytest.raises(ValueError, match="not a quarterly period"):
        due_date(registry.profile("yubei"), "quarterly", "2026-03")


def test_finance_items_go_monthly_where_transactions_are_many(registry: Registry) -> None:
    """T-FIN-Q: quarterly by default, monthly in a village flagged as having many transactions."""
    income = registry.item("jyv:cw.1")
    assert income.finance and income.cadence == "quarterly"
    assert income.effective_cadence(many_transactions=False) == "quarterly"
    assert income.effective_cadence(many_transactions=True) == "monthly"
    assert registry.item("jyv:cw.5").effective_cadence(many_transactions=True) == "adhoc"  # not income/expense
    jiangyuan = registry.profile("jiangyuan")
    assert jiangyuan.finance_rule.rule == "T-FIN-Q" and not jiangyuan.finance_rule.borrowed
    assert due_date(jiangyuan, income.effective_cadence(True), "2026-03") == date(2026, 4, 10)


def test_dawukou_monthly_item_for_january(registry: Registry) -> None:
    funds = registry.item("dwk:cw.2")
    dawukou = registry.profile("dawukou")
    assert due_date(dawukou, funds.effective_cadence(), "2026-01") == date(2026, 2, 28)
    assert due_date(dawukou, funds.effective_cadence(), "2028-01") == date(2028, 2, 29)
