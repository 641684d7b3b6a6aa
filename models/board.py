"""The public board: how a village's board is addressed, and the proof that a notice hangs on the paper board."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class BoardSetting(SQLModel, table=True):
    """A village's choice about its public board; a village without a row has a public, listed board.

    visibility: public (listed on its township's page, indexed) | noindex (listed, but search engines are
    asked to keep it out) | links (not listed, not indexed, and addressed by `link_key` instead of the
    village's code, so only the links the village hands out reach it).
    """

    __tablename__ = "board_setting"

    village_id: int = Field(foreign_key="village.id", primary_key=True)
    visibility: str = Field(default="public", max_length=12)
    link_key: str | None = Field(default=None, max_length=32, unique=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PostingProof(SQLModel, table=True):
    """A photo of the printed notice on the village's paper board (已张贴), sent by staff in reply to the
    bot's "published" message. The photo stays in Telegram; the board shows when and by whom."""

    __tablename__ = "posting_proof"

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    file_id: str = Field(max_length=255)
    file_unique_id: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
