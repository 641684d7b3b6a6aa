"""The directory: townships, villages, people, their roles, bound chats and invites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

DEFAULT_REVIEW_CHAIN = ["secretary", "supervisor"]


class Township(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=40)
    name: str = Field(max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Village(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    township_id: int = Field(foreign_key="township.id", index=True)
    code: str = Field(unique=True, index=True, max_length=40)
    name: str = Field(max_length=200)
    committee_name: str = Field(default="", max_length=200)  # the issuing unit printed on notices
    kind: str = Field(default="village", max_length=16)  # village | community
    profile: str | None = Field(default=None, max_length=40)  # None: the deployment's POLICY_PROFILE
    catalog: str | None = Field(default=None, max_length=16)  # None: the profile's catalog for the kind
    population: int = 0
    representatives: int = 0
    timezone: str | None = Field(default=None, max_length=64)
    language: str = Field(default="zh", max_length=8)
    monthly_finance: bool = False  # T-FIN-Q: many transactions, so finance items are owed monthly
    review_chain: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REVIEW_CHAIN), sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tg_user_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    name: str = Field(default="", max_length=200)  # as printed on notices: the Telegram name until one is chosen
    name_chosen: bool = False  # the person (or the directory file) gave the name: Telegram no longer overwrites it
    username: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8)  # None until the person picks one
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """One role of one person in one village (or, for inspectors, one township)."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("person_id", "role", "village_id", "township_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    township_id: int | None = Field(default=None, foreign_key="township.id", index=True)
    status: str = Field(default="active", max_length=12)  # active | pending | declined | revoked
    decided_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BoundChat(SQLModel, table=True):
    """A Telegram group the bot serves: a village's resident group or a township's filing group."""

    __tablename__ = "bound_chat"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, unique=True, index=True)
    title: str = Field(default="", max_length=255)
    purpose: str = Field(default="residents", max_length=12)  # residents | filing
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    township_id: int | None = Field(default=None, foreign_key="township.id", index=True)
    active: bool = True
    can_pin: bool = False
    inactive_reason: str | None = Field(default=None, max_length=255)
    bound_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    """A single-use, expiring deep link granting one role in one village."""

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, index=True, max_length=64)
    role: str = Field(max_length=16)
    village_id: int = Field(foreign_key="village.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_by: int | None = Field(default=None, foreign_key="person.id")
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OfficialNumber(SQLModel, table=True):
    """A public number of a village or a township (seed 004: 公开监督联系电话): never flagged by the privacy
    screen, in whatever format a notice writes it; the supervision line is printed on every notice."""

    __tablename__ = "official_number"
    __table_args__ = (UniqueConstraint("village_id", "township_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int | None = Field(default=None, foreign_key="village.id", index=True)
    township_id: int | None = Field(default=None, foreign_key="township.id", index=True)
    kind: str = Field(max_length=16)  # supervision (监督电话) | office (村委会办公电话)
    number: str = Field(max_length=40)  # as the village writes it, printed as is
    key: str = Field(max_length=20)  # services.privacy.number_key: the same number in any format
    set_by: int | None = Field(default=None, foreign_key="person.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
