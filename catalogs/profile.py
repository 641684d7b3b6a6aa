"""Pydantic models of a policy profile: which deadline rule (DOMAIN.md rule id) governs each cadence."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from catalogs.catalog import Names, Strict
from catalogs.vocabulary import Cadence, RuleId, Stage


class RuleRef(Strict):
    """A rule id with provenance; `borrowed` marks a local choice where the profile's source is silent,
    `reading` one where the source speaks but leaves the date open (this project's reading, DOMAIN.md)."""

    rule: RuleId
    borrowed: bool = False
    borrowed_from: str | None = None
    reading: bool = False
    note: str | None = None

    @property
    def local(self) -> bool:
        """The seeds do not state this date: whoever is shown it is told it is a local reading."""
        return self.borrowed or self.reading

    @model_validator(mode="after")
    def _borrowing_says_from_where(self) -> RuleRef:
        if self.borrowed and not self.borrowed_from:
            raise ValueError("borrowed_from: required when borrowed is true")
        return self


class Standing(RuleRef):
    """T-LONG: posted and kept current; no due date."""

    kind: Literal["standing"]


class AfterPeriodEnd(RuleRef):
    """Due `days` days after the period's last day (T-Q10: Q1 -> 10 April)."""

    kind: Literal["after_period_end"]
    days: int = Field(ge=0)


class DayOfNextMonth(RuleRef):
    """Due on day `day` of the month after the period, clamped to that month (T-Q15, T-M15, T-DAY30)."""

    kind: Literal["day_of_next_month"]
    day: int = Field(ge=1, le=31)


class AfterEvent(RuleRef):
    """Due `days` after the event; negative means before it (T-ELECT voter list: -20)."""

    kind: Literal["after_event"]
    days: int


class WorkingDaysBefore(RuleRef):
    """Due `days` working days (China's official calendar, catalogs.dates) before the event (T-AGENDA3)."""

    kind: Literal["working_days_before"]
    days: int = Field(ge=1)


class StagedRule(RuleRef):
    """T-STAGED: each stage's disclosure is due `stages[stage]` days after that stage's event."""

    kind: Literal["staged"]
    stages: dict[Stage, int]

    @model_validator(mode="after")
    def _all_stages(self) -> StagedRule:
        missing = [stage for stage in ("before", "during", "after") if stage not in self.stages]
        if missing:
            raise ValueError(f"stages: missing {missing}")
        return self


PeriodRule = Annotated[AfterPeriodEnd | DayOfNextMonth, Field(discriminator="kind")]
EventRule = Annotated[AfterEvent | WorkingDaysBefore, Field(discriminator="kind")]


class Cadences(Strict):
    long_term: Standing
    annual: PeriodRule
    quarterly: PeriodRule
    monthly: PeriodRule
    adhoc: AfterEvent
    immediate: AfterEvent
    staged: StagedRule


class Events(Strict):
    plan: AfterEvent  # T-PLAN2: the adopted annual disclosure plan
    election_voter_list: AfterEvent  # T-ELECT, event = election day
    election_candidates: AfterEvent
    election_results: AfterEvent  # the result, announced on election day (公布)
    election_certificates: AfterEvent  # 公布3天内颁证: certificates within 3 days of the result
    agenda: WorkingDaysBefore  # T-AGENDA3, event = meeting day


class InspectionCadence(Strict):
    """How often the township inspects its villages' disclosure (核查督导, catalogs/inspection.py). The seeds
    give no rule id for it: `source` is the seed that says it, or `borrowed_from` the one a profile borrows."""

    every: Literal["half_month", "quarter"]
    source: str | None = None
    borrowed: bool = False
    borrowed_from: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _says_from_where(self) -> InspectionCadence:
        if not (self.source or (self.borrowed and self.borrowed_from)):
            raise ValueError("inspection: give its source seed, or borrowed with borrowed_from")
        return self


class Profile(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    names: Names
    source: str
    keep_days: int = Field(ge=1)  # T-KEEP: a posting may come down from published_on + keep_days
    keep_rule: RuleRef
    question_reply_days: int = Field(default=10, ge=0)  # no seed sets it: always shown as a local reading
    finance_rule: RuleRef  # T-FIN-Q: finance items quarterly, monthly where transactions are many
    cadences: Cadences
    events: Events
    inspection: InspectionCadence | None = None  # None: the township owes no inspection cadence

    def rule_for(self, cadence: Cadence | str) -> RuleRef:
        rule: RuleRef = getattr(self.cadences, Cadence(cadence).value)
        return rule

    def period_rule(self, cadence: Cadence | str) -> AfterPeriodEnd | DayOfNextMonth:
        """The rule of a periodic cadence (annual, quarterly, monthly)."""
        rule = self.rule_for(cadence)
        if not isinstance(rule, AfterPeriodEnd | DayOfNextMonth):
            raise ValueError(f"cadence {Cadence(cadence).value!r} has no periods")
        return rule
