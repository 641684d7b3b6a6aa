"""Notices, their review decisions, the append-only audit log, attachments and where they were posted."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

FIRST_PUBLISHED = "published_at IS NOT NULL AND corrects_id IS NULL"  # ix_notice_first_published's rows


class Notice(SQLModel, table=True):
    """One disclosure. `version` grows with every submission, so buttons of an earlier round go stale."""

    # The township console's ranking (services.township.ranking): each village's first publication of each
    # (item, period), read in index order (PostgreSQL: from the index alone, the state carried in it).
    # Its PostgreSQL options (INCLUDE state, the same WHERE) live in migration 0014 alone, which creates the index
    # with them: naming them here would load SQLAlchemy's PostgreSQL dialect in every process, a bot on SQLite
    # included (1.9 MB resident). tests/runtime/test_migrations.py reads the index back from each database.
    __table_args__ = (Index("ix_notice_first_published", "village_id", "item_id", "period", "published_at",
                            sqlite_where=text(FIRST_PUBLISHED)),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    author_id: int = Field(foreign_key="person.id", index=True)
    item_id: str | None = Field(default=None, max_length=24, index=True)  # catalog item, e.g. "jyv:sw.20"
    period: str | None = Field(default=None, max_length=16)  # "2026Q1" | "2026-03" | "2026" | None (ad hoc)
    obligation_id: int | None = Field(default=None, index=True)  # an event-driven obligation it meets
    nothing_to_disclose: bool = False
    title: str = Field(default="", max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    table_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    state: str = Field(default="draft", max_length=20, index=True)
    stage: int = 0
    version: int = 1
    review_chain: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    corrects_id: int | None = Field(default=None, foreign_key="notice.id")
    privacy_overrides: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    retraction: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    posting_until: date | None = None


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    kind: str = Field(max_length=10)  # photo | document
    file_id: str = Field(max_length=255)
    file_name: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReviewDecision(SQLModel, table=True):
    """At most one decision per notice, version and stage: a double tap or two reviewers at once
    cannot both decide, because the database refuses the second row."""

    __tablename__ = "review_decision"
    __table_args__ = (UniqueConstraint("notice_id", "version", "stage"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    version: int
    stage: int
    role: str = Field(max_length=16)
    person_id: int = Field(foreign_key="person.id")
    decision: str = Field(max_length=10)  # approve | changes | reject
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Append-only (database triggers refuse UPDATE and DELETE): who did what to which notice, when."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    action: str = Field(max_length=24)
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    version: int
    stage: int
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Posting(SQLModel, table=True):
    """A notice as it lives in one chat: which messages, pinned until when, still there or not."""

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    purpose: str = Field(default="residents", max_length=12)  # residents | filing
    message_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # text parts
    attachment_ids: list[int] = Field(default_factory=list,
                                      sa_column=Column(JSON, nullable=False, server_default="[]"))
    pin: bool = False
    pinned: bool = False
    pin_until: date | None = None
    state: str = Field(default="queued", max_length=12)  # queued | posted | failed | uncertain | removed
    reposts: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
