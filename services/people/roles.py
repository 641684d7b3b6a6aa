"""Roles a person can hold, and what each may do. Pure data; checks live in services.access."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STAFF = "staff"
    SECRETARY = "secretary"
    SUPERVISOR = "supervisor"  # a member of the village (residents') affairs supervisory committee
    INSPECTOR = "inspector"  # township inspector: granted per township, sees all its villages
    REPRESENTATIVE = "representative"
    RESIDENT = "resident"


VILLAGE_ROLES = (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR, Role.REPRESENTATIVE, Role.RESIDENT)
REVIEW_ROLES = (Role.SECRETARY, Role.SUPERVISOR)
ALL_ROLES = tuple(Role)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError as exc:
        raise ValueError(f"unknown role {value!r}; expected one of {', '.join(ALL_ROLES)}") from exc
