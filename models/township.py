"""The township's desk: what inspectors do about villages (urge, rectification orders, inspections), the
desk's append-only log of it, and the console's one-time sign-in links and sessions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class DeskAction(SQLModel, table=True):
    """One thing the desk did or that happened to its orders, never changed: kind urge | rectify |
    reminded | escalated | closed | inspected. The village's page in the console lists them."""

    __tablename__ = "desk_action"

    id: int | None = Field(default=None, primary_key=True)
    township_id: int = Field(foreign_key="township.id", index=True)
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")  # None: the bot itself
    kind: str = Field(max_length=16)
    order_id: int | None = Field(default=None, foreign_key="rectification.id")
    inspection_id: int | None = Field(default=None, foreign_key="inspection.id")
    what: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Rectification(SQLModel, table=True):
    """限期整改: a village ordered to meet these obligations (keys as in services.deadlines.obligations) by
    `deadline`; open until every one is met (then closed by itself), escalated once when the deadline passes."""

    id: int | None = Field(default=None, primary_key=True)
    township_id: int = Field(foreign_key="township.id", index=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    ordered_by: int | None = Field(default=None, foreign_key="person.id")
    deadline: date
    note: str = Field(default="", max_length=500)
    what: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    met_keys: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="open", max_length=12, index=True)  # open | closed
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Inspection(SQLModel, table=True):
    """A township's check of its villages (核查督导): half-monthly, quarterly or on site, with findings."""

    id: int | None = Field(default=None, primary_key=True)
    township_id: int = Field(foreign_key="township.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    day: date
    kind: str = Field(max_length=16)  # half_monthly | quarterly | on_site
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InspectionFinding(SQLModel, table=True):
    __tablename__ = "inspection_finding"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))


class InspectionPhoto(SQLModel, table=True):
    """A photo the inspector sent the bot for an inspection record: Telegram's file id (the console fetches
    the picture through the bot when a page shows it), never the bytes."""

    __tablename__ = "inspection_photo"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    file_id: str = Field(max_length=200)
    file_unique_id: str = Field(max_length=64)  # the same picture sent twice is kept once
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsoleToken(SQLModel, table=True):
    """A console sign-in link (kind "link": single use, minutes long) or a signed-in session ("session",
    hours long, with its CSRF token). Only the SHA-256 of the secret is stored."""

    __tablename__ = "console_token"

    digest: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=8)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf: str = Field(default="", max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
