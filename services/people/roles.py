"""Roles a person can hold, and what each may do. Pure data; checks live in services.access."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"
    SECRETARY = "secretary"
    SUPERVISOR = "supervisor"  # a member of the village (residents') affairs supervisory committee
    FINANCE_GROUP = "finance_group"  # a member of the democratic finance group (民主理财小组, seed 003)
    INSPECTOR = "inspector"  # township inspector: granted per township, sees all its villages
    REPRESENTATIVE = "representative"
    RESIDENT = "resident"


VILLAGE_ROLES = (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR, Role.FINANCE_GROUP, Role.REPRESENTATIVE,
                 Role.RESIDENT)
REVIEW_ROLES = (Role.FINANCE_GROUP, Role.SECRETARY, Role.SUPERVISOR)
ALL_ROLES = tuple(Role)


def chain_for(chain: list[str], finance: bool) -> list[str]:
    """A notice's review stages: the village's chain, without the finance group's stage unless the notice
    discloses a finance-class item (seed 003: the 民主理财小组 checks the village's finances)."""
    return [role for role in chain if finance or role != Role.FINANCE_GROUP]


def with_finance_group(chain: list[str], on: bool) -> list[str]:
    """The village's chain with the finance group's stage added (just before the secretary, or first when the
    chain has no secretary) or removed."""
    rest = [role for role in chain if role != Role.FINANCE_GROUP]
    if not on:
        return rest
    at = rest.index(Role.SECRETARY) if Role.SECRETARY in rest else 0
    return [*rest[:at], Role.FINANCE_GROUP.value, *rest[at:]]


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError as exc:
        raise ValueError(f"unknown role {value!r}; expected one of {', '.join(ALL_ROLES)}") from exc
