"""Event-driven obligations, the nag log (never the same nag twice) and snoozes.

Periodic obligations (village, item, period) are derived from the catalogs on demand, not stored:
10,000 villages times their periodic items would be millions of rows that say nothing the catalog
does not. Only what events create (a petition reaching its threshold, a resolution registered with
/event) is stored here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


class Obligation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    source: str = Field(max_length=24)  # petition | event
    source_id: int | None = None  # the petition's id, for example
    rule: str = Field(max_length=40)  # a profile cadence or event key: immediate, adhoc, plan, staged.after ...
    item_id: str | None = Field(default=None, max_length=24)
    title: str = Field(default="", max_length=200)
    event_date: date
    due: date = Field(index=True)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    met_notice_id: int | None = Field(default=None, foreign_key="notice.id")
    met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NagLog(SQLModel, table=True):
    """A claim of nags sent: (village, obligation key, kind, local day) is the primary key, so a restart, a
    second scheduler or a clock jump can never send the same nag twice. One row per nag, except a village's
    periodic reminders and overdue nags of one kind on one day: one row for all of them, keyed PERIODIC,
    `count` saying how many (services/deadlines/nags.py; they are planned once per village and day anyway).

    The key is the table's only index (SQLite: WITHOUT ROWID): the scan writes ~19,000 rows on a heavy day
    for 10,000 villages (161,000 nags), and a surrogate id plus a unique index would write every row twice.
    No foreign key to village either (migration 0006): villages are never deleted, the scan takes the ids
    from the village table, and on PostgreSQL the check cost ~40% of the insert."""

    __tablename__ = "nag_log"
    __table_args__ = ({"sqlite_with_rowid": False},)

    village_id: int = Field(primary_key=True)
    obligation_key: str = Field(max_length=48, primary_key=True)  # "<item id>@<period>" or "ob:<obligation id>"
    kind: str = Field(max_length=24, primary_key=True)  # T-7 | T-3 | T-1 | due | overdue | escalate_* | snoozed
    day: date = Field(primary_key=True)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    count: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # the nags this row claims


PERIODIC = "periodic"  # NagLog.obligation_key of a village's periodic nags of one kind and day (no "@", no "ob:")


class NagTally(SQLModel, table=True):
    """What the nag log held before its old rows were pruned (services/deadlines/history.py): nags sent per
    local day and kind. The log keeps only the rows a scan can still need; this keeps the
    count (the `cunwu_nags_sent` counter is the log rows' counts plus these)."""

    __tablename__ = "nag_tally"

    day: date = Field(primary_key=True)
    kind: str = Field(max_length=24, primary_key=True)
    count: int = 0


class Snooze(SQLModel, table=True):
    """"Remind me tomorrow": no reminder about this obligation to this person before `until`."""

    __table_args__ = (UniqueConstraint("village_id", "obligation_key", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    village_id: int = Field(foreign_key="village.id", index=True)
    obligation_key: str = Field(max_length=48)
    person_id: int = Field(foreign_key="person.id")
    until: date


class NagScan(SQLModel, table=True):
    """The periodic nags of every village of time zone `zone` up to id `village_id_max` were planned for
    local `day`: the hourly re-runs that day only look at newer villages and at event obligations (a
    periodic obligation cannot start to need a nag within a day; it can only stop needing one)."""

    __tablename__ = "nag_scan"

    zone: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    village_id_max: int
    at: datetime = Field(sa_type=UTCDateTime)
