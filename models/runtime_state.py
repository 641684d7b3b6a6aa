"""Tables the runtime itself needs: the outbox and conversation (FSM) state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class OutboxMessage(SQLModel, table=True):
    """Something the bot must do in a chat, written in the same transaction as the change that caused it.

    status: pending -> sending -> sent | failed | uncertain | cancelled; a `sending` row whose worker died
    was in flight, so it becomes `uncertain` rather than being sent blindly again. A row that takes several
    requests (a long text in parts, attachments, the pin) records each confirmed one in `progress`, so a
    retry continues after it. `cancelled`: the notice was retracted before the row went out.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    action: str = Field(default="send", max_length=12)  # send | post | edit | pin | unpin | delete
    lang: str = Field(default="zh", max_length=8)
    template: str = Field(default="", max_length=80)
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    keyboard: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    target_message_id: int | None = Field(default=None, sa_type=BigInteger)  # for edit/pin/unpin/delete
    topic: str | None = Field(default=None, max_length=40, index=True)  # e.g. "notice:12", for progress
    village_id: int | None = Field(default=None, foreign_key="village.id")
    posting_id: int | None = Field(default=None, foreign_key="posting.id", index=True)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)  # set only when told to wait (429)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    error: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # {"ids": [message ids confirmed so far, in order], "pinned": bool}
    progress: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    claimed_by: str | None = Field(default=None, max_length=36)  # the delivery worker holding the row
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # its lease


class FsmRecord(SQLModel, table=True):
    """aiogram FSM state and data for one conversation key, so a conversation survives a restart."""

    __tablename__ = "fsm_state"

    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=120)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcessedUpdate(SQLModel, table=True):
    """Update ids already handled, so an update Telegram delivers twice has one effect."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_type=BigInteger, primary_key=True)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
