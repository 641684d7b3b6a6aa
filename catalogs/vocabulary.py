"""Closed vocabularies shared by the data models and the date functions: cadences, rule ids, roles."""

from enum import StrEnum
from typing import Literal


class Cadence(StrEnum):
    LONG_TERM = "long_term"  # T-LONG: kept current, no period
    ANNUAL = "annual"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    ADHOC = "adhoc"  # within N days of an event
    IMMEDIATE = "immediate"  # T-NOW
    STAGED = "staged"  # T-STAGED: before / during / after


# Cadences that run on calendar periods, in the order a calendar lists them on the same day.
PERIODIC: tuple[Cadence, ...] = (Cadence.ANNUAL, Cadence.QUARTERLY, Cadence.MONTHLY)

# Every rule id of DOMAIN.md; profiles may cite only these, so a typo fails at load time.
RuleId = Literal[
    "T-LONG",
    "T-Q10",
    "T-FIN-Q",
    "T-STAGED",
    "T-NOW",
    "T-Q15",
    "T-M15",
    "T-ADHOC10",
    "T-KEEP10",
    "T-DAY30",
    "T-KEEP7",
    "T-YEAR",
    "T-PLAN2",
    "T-ELECT",
    "T-AGENDA3",
]

UnitKind = Literal["village", "community"]

Stage = Literal["before", "during", "after"]

# Who answers for an item's disclosure, and so is nagged about it: the staff, or (its own supervision of the
# village's finances, 000 财务类 17) the supervisory committee.
Owner = Literal["staff", "supervisor"]

# What the record of a procedure's deliberation holds (四议两公开: date, body that met, attendance, votes, text).
Record = Literal["date", "body", "attendance", "votes", "text"]


class Role(StrEnum):
    """Items that code must find by meaning rather than by number."""

    QUESTION_REPLIES = "question_replies"  # replies to villagers' questions (jyv:sw.20, jyc:sw.15)
