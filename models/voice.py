"""Residents' voice: questions (and complaints) about notices, petitions and their signatures."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class Question(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    notice_id: int | None = Field(default=None, foreign_key="notice.id", index=True)  # None: a general question
    village_id: int = Field(foreign_key="village.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    photo_file_id: str | None = Field(default=None, max_length=255)
    complaint: bool = False
    state: str = Field(default="open", max_length=16)  # open | answered | explain | closed
    due: date
    passed_to_committee: bool = False
    reply: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # the latest; all in QuestionEntry
    replied_by: int | None = Field(default=None, foreign_key="person.id")
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: int | None = Field(default=None, foreign_key="person.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    digest_notice_id: int | None = Field(default=None, foreign_key="notice.id")  # the latest digest drafted with it


class QuestionEntry(SQLModel, table=True):
    """The history of a question after it was asked: each reply, each time the committee required an
    explanation, and each explanation that followed, in order."""

    __tablename__ = "question_entry"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True)
    kind: str = Field(max_length=16)  # reply | explain (the committee asks) | explanation (staff's answer to it)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # None for `explain`
    person_id: int = Field(foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Petition(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    title: str = Field(max_length=200)
    request: str = Field(sa_column=Column(Text, nullable=False))  # what should be disclosed
    item_id: str | None = Field(default=None, max_length=24)
    state: str = Field(default="pending", max_length=12)  # pending | open | refused | granted | expired | closed
    refuse_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reviewed_by: int | None = Field(default=None, foreign_key="person.id")
    residents_needed: int = 0  # ceil(population / 10), frozen when the petition opens
    representatives_needed: int = 0  # ceil(representatives / 5)
    resident_count: int = 0
    representative_count: int = 0
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opens_at: datetime = Field(sa_type=UTCDateTime)  # opens by itself then unless staff decided before
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    granted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Signature(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("petition_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petition.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    # What this signature added to the counts when it was made; a withdrawal takes back exactly that,
    # whatever the person's roles have become since.
    resident: bool = False
    representative: bool = False
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PetitionPost(SQLModel, table=True):
    """The petition's message in a resident group, edited to show the live count."""

    __tablename__ = "petition_post"

    id: int | None = Field(default=None, primary_key=True)
    petition_id: int = Field(foreign_key="petition.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    shown_count: int = 0


class VoiceQuota(SQLModel, table=True):
    """How often a person did a rate-limited thing (ask a question, start a petition, sign or withdraw) in
    one window. A conditional UPDATE on this row takes a slot, so two quick taps cannot both pass the limit."""

    __tablename__ = "voice_quota"
    __table_args__ = (UniqueConstraint("person_id", "action", "window_start"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    action: str = Field(max_length=16)  # question | petition | sign
    window_start: datetime = Field(sa_type=UTCDateTime, index=True)
    used: int = 0
