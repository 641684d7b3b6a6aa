"""Procedures recorded step by step: a matter going through 四议两公开 (catalogs: Procedure), its records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class Matter(SQLModel, table=True):
    """One matter decided through a procedure; its disclosures are Obligation rows (source "matter")."""

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    procedure: str = Field(max_length=16)  # the procedure's code in the catalogs ("syl")
    title: str = Field(max_length=200)
    created_by: int = Field(foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_on: date | None = None  # staff recorded the decision carried out: the result is owed from then


class MatterStep(SQLModel, table=True):
    """The record of one deliberation of a matter: once per step, in the procedure's order."""

    __tablename__ = "matter_step"
    __table_args__ = (UniqueConstraint("matter_id", "step"),)

    id: int | None = Field(default=None, primary_key=True)
    matter_id: int = Field(foreign_key="matter.id", index=True)
    step: str = Field(max_length=24)
    held_on: date
    body: str = Field(default="", max_length=100)  # the body that met
    attendance: int | None = None
    votes_for: int | None = None
    votes_against: int | None = None
    votes_abstaining: int | None = None
    text: str = Field(default="", sa_column=Column(Text, nullable=False))  # what was proposed or decided
    recorded_by: int = Field(foreign_key="person.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Consultation(SQLModel, table=True):
    """A consultation (协商, seed 001): a topic proposed by a resident or staff, scheduled and recorded by staff;
    its outcome is an Obligation (source "consultation"), and whether it was adopted is fed back."""

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    topic: str = Field(max_length=200)
    proposed_by: int = Field(foreign_key="person.id")
    proposed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    scheduled_on: date | None = None
    held_on: date | None = None
    participants: str = Field(default="", sa_column=Column(Text, nullable=False))
    positions: str = Field(default="", sa_column=Column(Text, nullable=False))
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False))
    recorded_by: int | None = Field(default=None, foreign_key="person.id")
    adopted: bool | None = None  # fed back: the outcome adopted or not, with `feedback` explaining
    feedback: str = Field(default="", sa_column=Column(Text, nullable=False))
