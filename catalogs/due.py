"""Due-date rules: a profile, a cadence (or event rule) and a period (or event date) -> a date.

A due date is the last day on which publishing is still on time (DOMAIN.md, "Readings").
"""

from __future__ import annotations

from datetime import date, timedelta

from catalogs.dates import day_of_following_month, holiday_data_covers, working_days_before
from catalogs.errors import CatalogError
from catalogs.periods import Period, periodic
from catalogs.profile import AfterEvent, AfterPeriodEnd, EventRule, PeriodRule, Profile, WorkingDaysBefore
from catalogs.vocabulary import Cadence

QUESTION_REPLY = "question_reply"  # event key: a villager's question -> reply due (question_reply_days)


def due_date(profile: Profile, cadence: Cadence | str, period: Period | str) -> date:
    """Due date of a periodic obligation, e.g. (jiangyuan, quarterly, 2026Q4) -> 2027-01-10."""
    kind = periodic(cadence)
    span = Period.parse(period) if isinstance(period, str) else period
    if span.cadence is not kind:
        raise ValueError(f"period {span} is not a {kind.value} period")
    return _apply_period_rule(profile.period_rule(kind), span)


def _apply_period_rule(rule: PeriodRule, period: Period) -> date:
    if isinstance(rule, AfterPeriodEnd):
        return period.end + timedelta(days=rule.days)
    return day_of_following_month(period.end, rule.day)


def event_rules(profile: Profile) -> dict[str, EventRule]:
    """Every event-driven rule of the profile by key: cadences, staged.<stage>, and the named events."""
    rules: dict[str, EventRule] = {
        Cadence.ADHOC.value: profile.cadences.adhoc,
        Cadence.IMMEDIATE.value: profile.cadences.immediate,
    }
    staged = profile.cadences.staged
    for stage, days in staged.stages.items():
        rules[f"staged.{stage}"] = AfterEvent(kind="after_event", days=days, **_provenance(staged))
    rules.update({name: getattr(profile.events, name) for name in type(profile.events).model_fields})
    return rules


def _provenance(rule: object) -> dict[str, object]:
    return {key: getattr(rule, key) for key in ("rule", "borrowed", "borrowed_from", "note")}


def resolve_event_rule(profile: Profile, key: str) -> EventRule:
    """A key of `event_rules`, or a rule id that names exactly one of them (T-PLAN2, T-AGENDA3, ...)."""
    rules = event_rules(profile)
    if key in rules:
        return rules[key]
    matches = [name for name, rule in rules.items() if rule.rule == key or name.startswith(f"{key}.")]
    if len(matches) == 1:
        return rules[matches[0]]
    if matches:
        raise CatalogError(f"profile {profile.name}: {key!r} is ambiguous; use one of {matches}")
    raise CatalogError(f"profile {profile.name}: no event rule {key!r}; known: {sorted(rules)} or {QUESTION_REPLY!r}")


def event_due_date(profile: Profile, rule_or_cadence: str, event_date: date) -> date:
    """Due date of an event-driven obligation; negative offsets (T-ELECT voter list) fall before the event."""
    if rule_or_cadence == QUESTION_REPLY:
        return event_date + timedelta(days=profile.question_reply_days)
    rule = resolve_event_rule(profile, rule_or_cadence)
    if isinstance(rule, WorkingDaysBefore):
        return working_days_before(event_date, rule.days)
    return event_date + timedelta(days=rule.days)


def weekdays_only(profile: Profile, rule_or_cadence: str, event_date: date) -> bool:
    """Whether an event rule counted in working days had to fall back to Monday-Friday: the event's year,
    or its due date's, is beyond the official holiday calendar the package knows (say so to the reader)."""
    if rule_or_cadence == QUESTION_REPLY:
        return False
    rule = resolve_event_rule(profile, rule_or_cadence)
    if not isinstance(rule, WorkingDaysBefore):
        return False
    return not holiday_data_covers(event_date, working_days_before(event_date, rule.days))


LOCAL, WEEKDAYS = "local", "weekdays"  # what a reader is told about a due date (bot/ui/locales/*/readings.yaml)


def event_notes(profile: Profile, rule_or_cadence: str, event_date: date | None) -> tuple[str, ...]:
    """What the reader of an event obligation's due date must be told: LOCAL when no seed states it (the
    question reply deadline always), WEEKDAYS when working days fell back to Monday-Friday."""
    if rule_or_cadence == QUESTION_REPLY:
        return (LOCAL,)
    rule = event_rules(profile).get(rule_or_cadence)
    if rule is None:
        return ()
    notes: tuple[str, ...] = (LOCAL,) if rule.local else ()
    if event_date is not None and weekdays_only(profile, rule_or_cadence, event_date):
        notes += (WEEKDAYS,)
    return notes


def period_notes(profile: Profile, cadence: Cadence | str) -> tuple[str, ...]:
    """LOCAL when the profile's rule for a periodic cadence is borrowed or a reading."""
    return (LOCAL,) if profile.rule_for(cadence).local else ()


def posting_end(profile: Profile, published_on: date) -> date:
    """T-KEEP: the first day a notice published on `published_on` may come down."""
    return published_on + timedelta(days=profile.keep_days)


def period_now_due(cadence: Cadence | str, today: date) -> Period:
    """The period a clerk is most likely drafting today: the last one that has ended (2026-04-03 -> 2026Q1)."""
    return Period.containing(cadence, today).prev()
