"""The daily nag scan: reminders before the due date, daily nags once overdue, escalations, snoozes.

`daily_scan(session, policy, now)` is what the hourly job, the CLI, the tests and the bench call. A village
is scanned from the configured local hour on (never in quiet hours, 21:00-08:00 village time). Every nag
is first claimed in the NagLog (unique per village, obligation key, kind and local day) with INSERT ..
ON CONFLICT DO NOTHING: only the nags whose rows this scan inserted are said, so a second scan, a second
scheduler or a restart after downtime cannot send the same nag twice. A village's periodic reminders and
overdue nags of one kind are claimed together by one row (key PERIODIC, with their count): they are
planned once per village and day, all at once (see below); event obligations' nags, escalations and
snoozed reminders have a row each. People receive one digest per village per day listing their obligations.

The scan is set-based and built for 10,000 villages in a few seconds: a handful of queries returning plain
tuples (villages, what was published, open event obligations, escalations already sent, snoozes,
recipients), no query per village and no ORM object per row. Villages share catalogs, so the schedule
(item, period, due date, the nags it earns today) is computed once per distinct (profile, catalog, finance
cadence, local day), and so are its nags (one object shared by its villages, not one per village);
villages are then planned, claimed and sent in chunks, each village's nags kept together in digest order,
so memory stays flat however many there are. The nag log and outbox rows are written in bulk: one
INSERT .. SELECT of a JSON parameter (SQLite) or of arrays (PostgreSQL) per chunk, the driver's
executemany for SQLite's digests.

Periodic nags cannot change within a local day except by becoming unnecessary (a notice published), so
the first scan of a day in a time zone plans them and records a `NagScan` mark; the hourly re-runs until
21:00 then look only at villages created since the mark and at event obligations (registered any time).

A village whose profile or catalog is unknown (a bad import) is logged with its code and skipped; the
others are nagged as usual.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, BigInteger, Date, Integer, String, Text, bindparam, cast, func, literal, true
from sqlalchemy import insert as core_insert
from sqlalchemy import select as core_select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import CatalogError
from models import NagLog, NagScan, Notice, Obligation, OutboxMessage, Person, RoleGrant, Snooze, Village
from models.db import upsert
from models.obligations import PERIODIC
from models.types import utcnow
from services import outbox
from services.deadlines.obligations import (
    COUNTED_STATES,
    LONG,
    event_labels,
    load_event_obligations,
    log_broken,
    obligation_key,
    slots,
)
from services.errors import DomainError
from services.people import directory, official_numbers
from services.people.roles import Role
from services.policy import Policy

log = logging.getLogger("cunwu.deadlines")

BEFORE = {7: "T-7", 3: "T-3", 1: "T-1", 0: "due"}
BEFORE_KINDS = frozenset(BEFORE.values())
OVERDUE, SNOOZED = "overdue", "snoozed"
ESCALATE_REVIEWERS, ESCALATE_TOWNSHIP = "escalate_reviewers", "escalate_township"
ESCALATIONS = ((ESCALATE_TOWNSHIP, 7), (ESCALATE_REVIEWERS, 3))  # kind, days overdue
ESCALATION_KINDS = [kind for kind, _ in ESCALATIONS]
QUIET_FROM, QUIET_UNTIL = 21, 8
STAFF_KINDS = (*BEFORE.values(), OVERDUE, SNOOZED)
GROUPED_KINDS = frozenset((*BEFORE.values(), OVERDUE))  # a periodic nag of these is claimed per village and kind
MAX_ENTRIES = 60  # lines of one reminder (one Telegram message); every item named, each with its row of buttons
CHUNK = 2000  # ids per IN (...) list
VILLAGE_CHUNK = 2500  # villages planned, claimed and sent at a time: bounds the scan's memory
CLAIM_CHUNK = 20_000  # nags claimed per INSERT statement
DIGEST_CHUNK = 1000  # digests per INSERT statement on PostgreSQL (~4 MB of JSON text in its parameters)
NOBODY: frozenset[int] = frozenset()
SUPERVISOR = Role.SUPERVISOR.value  # an item's owner when the committee discloses it
LANGUAGES = ("zh", "en")

Shape = tuple[str | None, str | None, str, bool]  # profile, catalog, kind, monthly finance


def awake(local_hour: int, scan_hour: int) -> bool:
    """The village's local hour is the scan hour or later today, and not in quiet hours."""
    return max(scan_hour, QUIET_UNTIL) <= local_hour < QUIET_FROM


def kinds_for(due: date, today: date) -> list[str]:
    """The nags an open obligation earns today (escalations are sent once, see `daily_scan`)."""
    days_left = (due - today).days
    if days_left in BEFORE:
        return [BEFORE[days_left]]
    if days_left >= 0:
        return []
    late = -days_left
    return [OVERDUE] + [kind for kind, after in ESCALATIONS if late >= after]


@dataclass(frozen=True, slots=True)
class Due:
    """What a nag is about. Periodic ones are shared by every village of the same schedule."""

    key: str
    due: date
    item_id: str | None
    period: str | None
    obligation_id: int | None
    zh: str
    en: str
    rule: str = ""  # an event obligation's rule (its label when it has no catalog item)
    owner: str = "staff"  # the catalog item's owner: "supervisor" items are nagged to the committee


@dataclass(slots=True, eq=False)
class Nag:
    """A nag of one village's day; the village is that of the list holding it (see `_plan`). A periodic
    nag nobody snoozed is one object shared by every village of its schedule (`Schedule.nags`): the
    scan makes ~160 of them on a heavy day, not 160,000, and what is derived from it (who hears it, its
    place in a digest, its JSON) is computed once."""

    kind: str
    day: date
    about: Due
    people: frozenset[int] | None = None  # a snoozed reminder goes to those who asked only
    skip: frozenset[int] = NOBODY  # people who asked to be reminded tomorrow instead
    hearers: frozenset[Role] = field(init=False)  # the roles that hear it (see `hears`)
    order: tuple[date, str, str] = field(init=False)  # its place in a digest: due date, key, kind
    grouped: bool = field(init=False)  # claimed in its village's PERIODIC row of its kind (see `_claim`)
    claim: str = field(init=False)  # its key and kind as JSON, for a nag log row of its own (see `_claim`)

    def __post_init__(self) -> None:
        self.hearers = _hearers(self.kind, self.about.owner)
        self.order = (self.about.due, self.about.key, self.kind)
        self.grouped = self.about.obligation_id is None and self.kind in GROUPED_KINDS
        self.claim = _dumps([self.about.key, self.kind])[1:-1]

    @property
    def key(self) -> str:
        return self.about.key

    @property
    def due(self) -> date:
        return self.about.due


Planned = list[tuple["Awake", list[Nag]]]  # villages of a chunk, each with its nags in digest order (see `_order`)


@dataclass
class ScanResult:
    villages: int = 0
    scanned: int = 0
    planned: int = 0  # villages whose periodic obligations were looked at (the first scan of their day)
    skipped: int = 0  # villages left out because their profile or catalog is unknown (logged)
    nags: int = 0
    messages: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


class Awake(NamedTuple):
    """A village in its scan window today, as plain values (no ORM entity)."""

    id: int
    code: str
    township_id: int
    name: str
    shape: Shape
    zone: str  # the time zone in effect (the default when the village has none or an unknown one)
    today: date
    joined: date  # the local day the village joined the bot


@dataclass
class Schedule:
    """The periodic obligations of one (profile, catalog, finance cadence) on one local day, owed since
    the earliest join date of the villages sharing it; each village starts at its own join date."""

    active: list[Due]  # those earning a nag today, by due date and key
    nags: dict[str, tuple[Nag, ...]]  # key -> today's nags about it, by kind: shared by the schedule's villages
    by_key: dict[str, Due]  # every dated one, for snoozes
    rank: dict[str, int] = field(init=False)  # key -> its place in `active` (the digest's order)
    dues: list[date] = field(init=False)  # the due dates of `active`, for the bisect at a village's join date
    escalating: frozenset[str] = field(init=False)  # the keys earning an escalation today (sent once ever)
    _from: dict[date, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rank = {about.key: number for number, about in enumerate(self.active)}
        self.dues = [about.due for about in self.active]
        self.escalating = frozenset(key for key, found in self.nags.items()
                                    if any(n.kind in ESCALATION_KINDS for n in found))

    def owed_from(self, joined: date) -> frozenset[str]:
        """The keys earning a nag today for a village that joined on `joined` (nothing due before it is
        owed, obligations.owed_periods), computed once per join date: a village's unpublished ones are
        then one set difference."""
        found = self._from.get(joined)
        if found is None:
            found = self._from[joined] = frozenset(about.key for about in self.active[bisect_left(self.dues, joined):])
        return found


Schedules = dict[tuple[Shape, date], Schedule | None]  # None: the shape's profile or catalog is unknown


async def daily_scan(session: AsyncSession, policy: Policy, now: datetime, *, scan_hour: int = 9,
                     language: str = "zh") -> ScanResult:
    """`language`: the deployment's default, for people who have not chosen one (each digest is written
    in its reader's language only: both would double the outbox rows of a heavy day)."""
    villages, total = await _awake_villages(session, policy, now, scan_hour)
    result = ScanResult(villages=total, scanned=len(villages))
    if not villages:
        return result
    marks = await _marks(session, {(v.zone, v.today) for v in villages})
    fresh = [v for v in villages if v.id > marks.get((v.zone, v.today), 0)]
    schedules = _schedules(policy, fresh, result)
    planning = {v.id for v in fresh if schedules.get((v.shape, v.today)) is not None}
    published = await _published_keys(session, planning, schedules)
    events = await load_event_obligations(session, [v.id for v in villages] if len(villages) <= CHUNK else None,
                                          open_only=True)
    snoozes = await _snoozes(session, min(v.today for v in villages))
    texts = _Texts()
    for chunk in _chunks(villages, VILLAGE_CHUNK):
        planned = await _plan(session, policy, chunk, planning, schedules, published, events, snoozes)
        claimed = await _claim(session, planned)
        kinds = result.kinds
        for _, nags in claimed:
            result.nags += len(nags)
            for nag in nags:
                kinds[nag.kind] = kinds.get(nag.kind, 0) + 1
        result.messages += await _send(session, claimed, language, texts)
    await _mark(session, fresh, now)
    return result


async def _rows(session: AsyncSession, statement: Any) -> Any:
    """A read of plain tuples through the session's connection (SQLAlchemy Core): the ORM's result
    machinery costs more than the rows themselves on the scan's big reads. All rows at once (one fetchall,
    not a fetch per row)."""
    return (await (await session.connection()).execute(statement)).all()


async def _official(session: AsyncSession, villages: list[Awake]) -> dict[int, frozenset[str]]:
    """The official numbers' keys of these villages (what `outbox.masked` keeps), in a query per 2,000
    villages; none when there are none (the hourly re-runs say nothing on most villages)."""
    if not villages:
        return {}
    return await official_numbers.keys_of(session, {v.id: v.township_id for v in villages}, CHUNK)


def _chunks(villages: list[Awake], size: int) -> Iterator[list[Awake]]:
    for start in range(0, len(villages), size):
        yield villages[start:start + size]


async def _awake_villages(session: AsyncSession, policy: Policy, now: datetime,
                          scan_hour: int) -> tuple[list[Awake], int]:
    """Every village as a tuple, by id; local time computed once per distinct time zone."""
    rows = await _rows(session, select(  # type: ignore[call-overload]  # sqlmodel types select() for at most 4 columns
        Village.id, Village.code, Village.township_id, Village.name, Village.profile, Village.catalog, Village.kind,
        Village.timezone, Village.monthly_finance, Village.created_at).order_by(col(Village.id)))
    zones: dict[str | None, tuple[ZoneInfo, date | None]] = {}
    found: list[Awake] = []
    total = 0
    for vid, code, township_id, name, profile, catalog, kind, timezone, monthly, created_at in rows:
        total += 1
        zone = zones.get(timezone)
        if zone is None:
            tz = policy.zone(timezone)
            if timezone and tz.key != timezone:
                log.warning("time zone %r of village %s is unknown; %s is used", timezone, code, tz.key)
            local = now.astimezone(tz)
            zone = zones[timezone] = (tz, local.date() if awake(local.hour, scan_hour) else None)
        tz, today = zone
        if today is None:
            continue
        found.append(Awake(vid or 0, code, township_id, name, (profile, catalog, kind, bool(monthly)), tz.key,
                           today, created_at.astimezone(tz).date()))
    return found, total


def _schedules(policy: Policy, villages: list[Awake], result: ScanResult) -> Schedules:
    """One schedule per (shape, local day), owed since the earliest join date among its villages. A shape
    whose profile or catalog is unknown gets None, and each of its villages is logged and skipped."""
    since: dict[tuple[Shape, date], date] = {}
    for village in villages:
        key = (village.shape, village.today)
        since[key] = min(since.get(key, village.joined), village.joined)
    schedules: Schedules = {}
    for (shape, today), first in since.items():
        try:
            schedules[(shape, today)] = _schedule(policy, shape, today, first)
        except CatalogError as error:
            schedules[(shape, today)] = None
            broken = [v for v in villages if (v.shape, v.today) == (shape, today)]
            for village in broken:
                log_broken(village.code, str(error), "the nag scan")
            result.skipped += len(broken)
    result.planned = sum(1 for v in villages if schedules.get((v.shape, v.today)) is not None)
    return schedules


def _schedule(policy: Policy, shape: Shape, today: date, since: date) -> Schedule:
    profile, catalog, kind, monthly = shape
    village = Village(township_id=0, code="", name="", profile=profile, catalog=catalog, kind=kind,  # a shape
                      monthly_finance=monthly)
    active: list[Due] = []
    nags: dict[str, tuple[Nag, ...]] = {}
    by_key: dict[str, Due] = {}
    for slot in slots(policy, village, today, since):
        if slot.due is None:  # long-term: never nagged
            continue
        about = Due(slot.key, slot.due, slot.item.full_id, str(slot.period), None,
                    slot.item.zh_simplified or slot.item.zh, slot.item.en, owner=slot.item.owner)
        by_key[slot.key] = about
        kinds = kinds_for(slot.due, today)
        if kinds:
            active.append(about)
            nags[slot.key] = tuple(Nag(kind, today, about) for kind in sorted(kinds))
    active.sort(key=lambda about: (about.due, about.key))
    return Schedule(active, nags, by_key)


async def _plan(session: AsyncSession, policy: Policy, chunk: list[Awake], planning: set[int],
                schedules: Schedules, published: dict[int, str], events: dict[int, list[Obligation]],
                snoozes: dict[int, dict[str, dict[int, date]]]) -> Planned:
    """The nags of one chunk of villages, per village in digest order: periodic ones for the villages being
    planned today, event ones for all. What was already claimed today is filtered by the claim itself. An
    event obligation's title was typed by a person (a matter's, a consultation's topic, a petition's): masked
    here by the outbox's rule for bulk rows (`outbox.masked`), so the digest and its buttons carry it masked."""
    if not any(v.id in planning or v.id in events for v in chunk):
        return []
    escalated = await _escalated(session, chunk[0].id, chunk[-1].id)
    official = await _official(session, [v for v in chunk if v.id in events])
    planned: Planned = []
    for village in chunk:
        asked_here = snoozes.get(village.id)
        nags: list[Nag] = []
        if village.id in planning:
            schedule = schedules[(village.shape, village.today)]
            assert schedule is not None
            nags = _periodic_nags(village, schedule, published.get(village.id, ""), escalated, asked_here)
        rows = events.get(village.id, ())
        for row in rows:
            item = policy.item(row.item_id)
            # without a catalog item the obligation's own title names it (a petition's, a matter's), as /due does
            zh, en = ((item.zh_simplified or item.zh), item.en) if item else event_labels(policy, row)
            if not item:
                keys = official.get(village.id, frozenset())
                zh, en = outbox.masked(zh, keys), outbox.masked(en, keys)
            about = Due(obligation_key(row.id or 0), row.due, row.item_id, None, row.id, zh, en,
                        row.rule, item.owner if item else "staff")
            nags += _nags(village.id, about, kinds_for(row.due, village.today), village.today, escalated,
                          asked_here.get(about.key) if asked_here else None)
        if rows or asked_here:  # a periodic village's own list is already in order
            nags.sort(key=_order)
        if nags:
            planned.append((village, nags))
    return planned


def _periodic_nags(village: Awake, schedule: Schedule, published: str, escalated: set[tuple[int, str, str]],
                   asked_here: dict[str, dict[int, date]] | None) -> list[Nag]:
    """`published`: the village's published "item@period" keys, comma-separated (see _published_keys). The
    nags are the schedule's shared ones, in its order, unless someone snoozed the obligation."""
    vid, today = village.id, village.today
    keys = schedule.owed_from(village.joined)
    done = published.split(",") if published else ()
    owed = sorted(keys.difference(done) if done else keys, key=schedule.rank.__getitem__)
    shared, escalating = schedule.nags, schedule.escalating
    nags: list[Nag] = []
    for key in owed:
        if asked_here and key in asked_here:
            about = schedule.by_key[key]
            nags += _nags(vid, about, [n.kind for n in shared[key]], today, escalated, asked_here[key])
        elif key in escalating:  # escalations only once ever
            nags += [n for n in shared[key] if n.kind not in ESCALATION_KINDS or (vid, key, n.kind) not in escalated]
        else:  # the common case: the schedule's nags
            nags += shared[key]
    if asked_here:  # a snoozed reminder can fall on a day that earns no nag of its own
        done_keys = set(done)
        for key, asked in asked_here.items():
            snoozed = schedule.by_key.get(key)
            if snoozed is None or key in done_keys or snoozed.due < village.joined or kinds_for(snoozed.due, today):
                continue
            nags += _nags(vid, snoozed, (), today, escalated, asked)
    return nags


def _nags(vid: int, about: Due, kinds: tuple[str, ...] | list[str], today: date,
          escalated: set[tuple[int, str, str]], asked: dict[int, date] | None) -> list[Nag]:
    """The nags of one obligation today: escalations only once ever; people who asked to be reminded
    tomorrow skip today's reminders and get one of their own on that day."""
    key = about.key
    asked = asked or {}
    later = frozenset(p for p, until in asked.items() if until > today)
    found = [Nag(kind, today, about, None, later if kind in BEFORE_KINDS else NOBODY)
             for kind in kinds if (vid, key, kind) not in escalated]
    tomorrow_people = frozenset(p for p, until in asked.items() if until == today)
    if tomorrow_people and today < about.due:
        found.append(Nag(SNOOZED, today, about, tomorrow_people))
    return found


async def _published_keys(session: AsyncSession, planning: set[int], schedules: Schedules) -> dict[int, str]:
    """Per village being planned, the "item@period" keys of its counted root notices in the owed periods,
    comma-separated by the database (one row per village rather than one per notice; split per village
    only when it is planned, so 10,000 villages never hold 10,000 sets at once)."""
    periods = sorted({about.period for schedule in schedules.values() if schedule is not None
                      for about in schedule.active if about.period})
    if not planning or not periods:
        return {}
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    key = col(Notice.item_id) + "@" + func.coalesce(col(Notice.period), LONG)
    joined = func.string_agg(key, ",") if dialect == "postgresql" else func.group_concat(key, ",")
    state: Any = col(Notice.state)
    if dialect == "sqlite":
        # "+state" keeps SQLite's planner off ix_notice_state: through it, every counted notice is a lookup in
        # the table and then a sort by village (2 s for 10,000 villages); through the village index, the
        # rows come in village order and the grouping is a single pass (0.4 s)
        state = UnaryExpression(state, operator=operators.custom_op("+"), type_=String())
    query = (select(Notice.village_id, joined)
             .where(state.in_(COUNTED_STATES), col(Notice.item_id).is_not(None),
                    col(Notice.corrects_id).is_(None), col(Notice.period).in_(periods))
             .group_by(col(Notice.village_id)))
    if len(planning) <= CHUNK:  # a re-run's few new villages; the first run of a day reads them all at once
        query = query.where(col(Notice.village_id).in_(sorted(planning)))
    return {vid: text for vid, text in await _rows(session, query) if text and vid in planning}


async def _escalated(session: AsyncSession, lo: int, hi: int) -> set[tuple[int, str, str]]:
    """Escalations ever sent for villages lo..hi: an escalation goes out once per obligation."""
    rows = await _rows(session, select(NagLog.village_id, NagLog.obligation_key, NagLog.kind)
                              .where(col(NagLog.village_id).between(lo, hi),
                                     col(NagLog.kind).in_(ESCALATION_KINDS)))
    return {(v, k, kind) for v, k, kind in rows}


async def _snoozes(session: AsyncSession, first_day: date) -> dict[int, dict[str, dict[int, date]]]:
    """village -> obligation key -> person -> until."""
    found: dict[int, dict[str, dict[int, date]]] = defaultdict(lambda: defaultdict(dict))
    rows = await session.exec(select(Snooze.village_id, Snooze.obligation_key, Snooze.person_id, col(Snooze.until))
                              .where(col(Snooze.until) >= first_day))
    for vid, key, person_id, until in rows:
        found[vid][key][person_id] = until
    return found


async def _marks(session: AsyncSession, days: set[tuple[str, date]]) -> dict[tuple[str, date], int]:
    """(zone, local day) -> the highest village id whose periodic nags were planned for that day."""
    zones = sorted({zone for zone, _ in days})
    rows = await session.exec(select(NagScan.zone, col(NagScan.day), NagScan.village_id_max)
                              .where(col(NagScan.zone).in_(zones), col(NagScan.day).in_(sorted({d for _, d in days}))))
    return {(zone, day): highest for zone, day, highest in rows}


async def _mark(session: AsyncSession, planned: list[Awake], now: datetime) -> None:
    """Record, per (zone, local day), the highest village id planned, in the scan's own transaction."""
    highest: dict[tuple[str, date], int] = {}
    for village in planned:
        key = (village.zone, village.today)
        highest[key] = max(highest.get(key, 0), village.id)
    for (zone, day), top in highest.items():
        row = await session.get(NagScan, (zone, day))
        if row is None:
            session.add(NagScan(zone=zone, day=day, village_id_max=top, at=now))
        elif top > row.village_id_max:
            row.village_id_max, row.at = top, now
            session.add(row)
    await session.flush()


async def _claim(session: AsyncSession, planned: Planned) -> Planned:
    """Insert the nag log rows; the ones another scan inserted first are skipped, and their nags not said.

    A village's periodic reminders and overdue nags (`Nag.grouped`) are claimed by one row per kind and day,
    keyed PERIODIC, its `count` saying how many: they are planned once per village and day (the NagScan mark),
    all at once, so a second scan that plans them (a lost mark, a second scheduler) finds the row and says
    none of them again. Event obligations' nags, escalations (sent once ever, see `_escalated`) and snoozed
    reminders keep a row each, keyed by their obligation. A heavy day's 161,000 nags are ~20,000 rows.

    One INSERT .. SELECT .. ON CONFLICT DO NOTHING per ~20,000 nags, the rows passed as one JSON parameter
    (SQLite, json_each) or as five arrays (PostgreSQL, unnest): no per-row parameter binding. When every
    row of a chunk went in (the rule: one leader, one scan), all of it is ours; otherwise ours are the rows
    bearing this scan's stamp, read back. Cheaper than RETURNING every row."""
    if not planned:
        return []
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    statement = _claim_statement(dialect)
    connection = await session.connection()
    stamp = utcnow()
    claimed: Planned = []
    for chunk in _claim_chunks(planned):
        # a village has one local day per scan, so (village, key, kind) names a claim of this scan
        rows = [row for village, nags in chunk for row in _claim_rows(village, nags)]
        if dialect == "postgresql":
            params: dict[str, Any] = {name: [row[i] for row in rows] for i, name in enumerate("vkndc")}
        else:
            params = {"rows": "[" + ",".join(
                f'[{v},{piece},"{day.isoformat()}",{count}]' for v, _, _, day, count, piece in rows) + "]"}
        result = await connection.execute(statement, {**params, "sent_at": stamp})
        if result.rowcount == len(rows):
            claimed += chunk
        else:
            claimed += await _stamped(session, chunk, stamp)
    return claimed


def _claim_chunks(planned: Planned) -> Iterator[Planned]:
    """Whole villages, about CLAIM_CHUNK nags at a time."""
    chunk: Planned = []
    nags = 0
    for village, found in planned:
        chunk.append((village, found))
        nags += len(found)
        if nags >= CLAIM_CHUNK:
            yield chunk
            chunk, nags = [], 0
    if chunk:
        yield chunk


ClaimRow = tuple[int, str, str, date, int, str]  # village, key, kind, day, count; key and kind as JSON


def _claim_rows(village: Awake, nags: list[Nag]) -> list[ClaimRow]:
    """A village's nag log rows (see `_claim`)."""
    vid, day = village.id, village.today
    rows: list[ClaimRow] = []
    grouped: dict[str, int] = {}
    for nag in nags:
        if nag.grouped:
            grouped[nag.kind] = grouped.get(nag.kind, 0) + 1
        else:
            rows.append((vid, nag.about.key, nag.kind, day, 1, nag.claim))
    rows += [(vid, PERIODIC, kind, day, count, _dumps([PERIODIC, kind])[1:-1]) for kind, count in grouped.items()]
    return rows


async def _stamped(session: AsyncSession, chunk: Planned, stamp: datetime) -> Planned:
    """The nags of `chunk` this scan claimed: those whose rows bear its stamp."""
    ids = [village.id for village, _ in chunk]
    rows = await session.exec(select(NagLog.village_id, NagLog.obligation_key, NagLog.kind).where(
        col(NagLog.village_id).between(min(ids), max(ids)), col(NagLog.day).in_(sorted({v.today for v, _ in chunk})),
        NagLog.sent_at == stamp))
    ours = {(v, k, n) for v, k, n in rows}
    found: Planned = []
    for village, nags in chunk:
        kept = [n for n in nags if (village.id, PERIODIC if n.grouped else n.about.key, n.kind) in ours]
        if kept:
            found.append((village, kept))
    return found


def _claim_statement(dialect: str) -> Any:
    table = NagLog.__table__  # type: ignore[attr-defined]
    sent_at = bindparam("sent_at", type_=table.c.sent_at.type)
    source: Any
    if dialect == "postgresql":
        rows = func.unnest(bindparam("v", type_=ARRAY(Integer)), bindparam("k", type_=ARRAY(String)),
                           bindparam("n", type_=ARRAY(String)), bindparam("d", type_=ARRAY(Date)),
                           bindparam("c", type_=ARRAY(Integer))).table_valued("v", "k", "n", "d", "c").render_derived()
        source = core_select(rows.c.v, rows.c.k, rows.c.n, rows.c.d, sent_at, rows.c.c)
    else:
        rows = func.json_each(bindparam("rows", type_=String)).table_valued("value")
        source = core_select(*[func.json_extract(rows.c.value, f"$[{i}]") for i in range(4)], sent_at,
                             func.json_extract(rows.c.value, "$[4]"))
        source = source.where(true())  # SQLite: INSERT .. SELECT .. FROM needs a WHERE before ON CONFLICT
    insert = upsert(dialect)
    return (insert(table).from_select(["village_id", "obligation_key", "kind", "day", "sent_at", "count"], source)
            .on_conflict_do_nothing(index_elements=["village_id", "obligation_key", "kind", "day"]))


# --- who hears what --------------------------------------------------------------------------------------

RECIPIENT_ROLES = {Role.STAFF: STAFF_KINDS, Role.SECRETARY: (ESCALATE_REVIEWERS,),
                   Role.SUPERVISOR: (ESCALATE_REVIEWERS,), Role.INSPECTOR: (ESCALATE_TOWNSHIP,)}


def hears(role: Role, nag: Nag) -> bool:
    """Reminders and overdue nags go to the item's owner: the staff, or the supervisory committee for what
    it must disclose itself (its supervision of the finances); escalations as RECIPIENT_ROLES says."""
    if nag.kind in STAFF_KINDS:
        return role is (Role.SUPERVISOR if nag.about.owner == Role.SUPERVISOR.value else Role.STAFF)
    return nag.kind in RECIPIENT_ROLES[role]


class Listener(NamedTuple):
    """A recipient as plain values: enough to address a private message (chat id = Telegram user id)."""

    person_id: int
    tg_user_id: int
    language: str | None


async def _recipients(session: AsyncSession, villages: dict[int, Awake], ids: set[int]
                      ) -> tuple[dict[int, list[tuple[Role, Listener]]], dict[int, list[Listener]]]:
    by_village: dict[int, list[tuple[Role, Listener]]] = defaultdict(list)
    by_township: dict[int, list[Listener]] = defaultdict(list)
    id_list = sorted(ids)
    townships = sorted({villages[v].township_id for v in ids})
    village_roles = [Role.STAFF, Role.SECRETARY, Role.SUPERVISOR]
    roles = {role.value: role for role in Role}
    for start in range(0, len(id_list), CHUNK):
        # the chunk's id range, not an IN list of 2,000 parameters (rendered and bound at every query); the
        # villages in the range without a nag today are left out here
        part = id_list[start:start + CHUNK]
        rows = await _rows(session, select(  # type: ignore[call-overload]  # at most 4 columns
                                  RoleGrant.village_id, RoleGrant.role, Person.id, Person.tg_user_id, Person.language)
                                  .join(Person, col(Person.id) == RoleGrant.person_id)
                                  .where(RoleGrant.status == "active", col(RoleGrant.role).in_(village_roles),
                                         col(RoleGrant.village_id).between(part[0], part[-1])))
        for vid, role, person_id, tg_user_id, language in rows:
            if vid in ids:
                by_village[vid].append((roles[role], Listener(person_id or 0, tg_user_id, language)))
    for start in range(0, len(townships), CHUNK):
        rows = await _rows(session, select(RoleGrant.township_id, Person.id, Person.tg_user_id, Person.language)
                                  .join(Person, col(Person.id) == RoleGrant.person_id)
                                  .where(RoleGrant.status == "active", RoleGrant.role == Role.INSPECTOR,
                                         col(RoleGrant.township_id).in_(townships[start:start + CHUNK])))
        for township_id, person_id, tg_user_id, language in rows:
            by_township[township_id].append(Listener(person_id or 0, tg_user_id, language))
    return by_village, by_township


async def _send(session: AsyncSession, claimed: Planned, language: str, texts: _Texts | None = None) -> int:
    """One digest per person per village per day: the entries of every kind that person hears. The rows are
    inserted in bulk, not through `outbox.queue`; what in them a person typed is masked by the gate's rule
    for bulk rows (`outbox.masked`): the village's name here, event obligations' titles in `_plan`. The
    rest is the bot's: catalog names, periods, dates, counts, kinds (see `_digest_row`)."""
    if not claimed:
        return 0
    texts = texts if texts is not None else _Texts()
    villages = {village.id: village for village, _ in claimed}
    people, inspectors = await _recipients(session, villages, set(villages))
    official = await _official(session, list(villages.values()))
    rows: list[Digest] = []
    for village, nags in claimed:  # each village's nags in digest order (`_plan`)
        vid = village.id
        village = village._replace(name=outbox.masked(village.name, official.get(vid, frozenset())))
        listeners = list(people.get(vid, ())) + [(Role.INSPECTOR, p) for p in inspectors.get(village.township_id, ())]
        personal = any(n.people is not None or n.skip for n in nags)
        by_role: dict[Role, list[Nag]] = {}
        digests: dict[int, tuple[Listener, bool, list[Nag]]] = {}
        for role, person in listeners:
            pid = person.person_id
            heard = by_role.get(role)
            if heard is None:  # what a role hears is the same for each of its people
                heard = by_role[role] = [n for n in nags if role in n.hearers]
            if personal:
                heard = [n for n in heard if (n.people is None or pid in n.people) and pid not in n.skip]
            if not heard:
                continue
            known = digests.get(pid)
            if known is None:
                digests[pid] = (person, role is Role.STAFF, heard)
            else:  # the same person in two roles: one digest, each nag once (a village's nags are distinct objects)
                seen = {id(n) for n in known[2]}
                merged = sorted(known[2] + [n for n in heard if id(n) not in seen], key=_order)
                digests[pid] = (person, role is Role.STAFF or known[1], merged)
        for person, staff, heard in digests.values():
            lang = person.language if person.language in LANGUAGES else language
            rows.append(_digest_row(village, person, lang, staff, heard, texts))
    await _queue(session, rows)
    return len(rows)


def _order(nag: Nag) -> tuple[date, str, str]:
    return nag.order


@lru_cache(maxsize=256)
def _hearers(kind: str, owner: str) -> frozenset[Role]:
    """The roles that hear a nag of this kind about an item of this owner (see `hears`)."""
    if kind in STAFF_KINDS:
        return frozenset({Role.SUPERVISOR if owner == Role.SUPERVISOR.value else Role.STAFF})
    return frozenset(role for role, kinds in RECIPIENT_ROLES.items() if kind in kinds)


Digest = tuple[int, str, str, str, str, int]  # chat id, language, context and keyboard as JSON text, topic, village


async def _queue(session: AsyncSession, digests: list[Digest]) -> None:
    """The digests as outbox rows (what `services.outbox.queue_to_person` would add), in bulk: their context
    and keyboard arrive as JSON text, written by `_digest_row` from pieces shared by many digests, instead of
    each digest's dicts serialised whole by the JSON column type. PostgreSQL: one INSERT .. SELECT FROM
    unnest(arrays) per chunk (the server parses one statement, not a VALUES list of 14 parameters a row);
    SQLite: the driver's executemany of plain tuples (no per-row parameter processing by SQLAlchemy)."""
    if not digests:
        return
    connection = await session.connection()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    created_at = utcnow()
    if dialect == "postgresql":
        statement = _outbox_unnest()
        for start in range(0, len(digests), DIGEST_CHUNK):
            part = digests[start:start + DIGEST_CHUNK]
            await connection.execute(statement, {
                "c": [d[0] for d in part], "l": [d[1] for d in part], "x": [d[2] for d in part],
                "k": [d[3] for d in part], "t": [d[4] for d in part], "v": [d[5] for d in part],
                "created_at": created_at})
        return
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    stored = outbox.c.created_at.type.bind_processor(connection.dialect)  # as the column stores it
    at = stored(created_at) if stored else created_at
    await connection.exec_driver_sql(
        "INSERT INTO outbox (chat_id, action, lang, template, context, keyboard, topic, village_id, status, attempts,"
        " created_at) VALUES (?, 'send', ?, 'nag_digest', ?, ?, ?, ?, 'pending', 0, ?)",
        [(*digest, at) for digest in digests])


def _outbox_unnest() -> Any:
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    rows = func.unnest(bindparam("c", type_=ARRAY(BigInteger)), bindparam("l", type_=ARRAY(String)),
                       bindparam("x", type_=ARRAY(Text)), bindparam("k", type_=ARRAY(Text)),
                       bindparam("t", type_=ARRAY(String)), bindparam("v", type_=ARRAY(Integer))
                       ).table_valued("c", "l", "x", "k", "t", "v").render_derived()
    json = outbox.c.context.type
    source = core_select(rows.c.c, literal("send"), rows.c.l, literal("nag_digest"), cast(rows.c.x, json),
                         cast(rows.c.k, json), rows.c.t, rows.c.v, literal("pending"), literal(0),
                         bindparam("created_at", type_=outbox.c.created_at.type))
    return core_insert(outbox).from_select(["chat_id", "action", "lang", "template", "context", "keyboard", "topic",
                                            "village_id", "status", "attempts", "created_at"], source)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Texts:
    """A scan's JSON pieces of digest entries and buttons, each written once per nag, language and number in
    its digest (periodic nags are shared by every village of a schedule, and most digests of a heavy day
    list the same nags at the same numbers), then joined per digest. Keyed by the nag's identity: the
    scan's `Nag` objects live as long as this cache (one per scan)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[int, str, int], str] = {}
        self.buttons: dict[tuple[int, str, int], str] = {}
        self.keep: list[Nag] = []  # the nags keyed by id(), alive as long as their pieces

    def entry(self, nag: Nag, lang: str, number: int) -> str:
        """The entry's JSON object, numbered."""
        key = (id(nag), lang, number)
        found = self.entries.get(key)
        if found is None:
            self.keep.append(nag)
            found = self.entries[key] = f'{_dumps(_entry(nag, lang))[:-1]},"n":{number}}}'
        return found

    def button(self, nag: Nag, lang: str, number: int) -> str:
        """The button's JSON object, numbered."""
        key = (id(nag), lang, number)
        found = self.buttons.get(key)
        if found is None:
            self.keep.append(nag)
            about = nag.about
            found = self.buttons[key] = _dumps({"n": number, "i": about.item_id or "", "p": about.period or "",
                                                "o": about.obligation_id or 0,
                                                "l": about.en if lang == "en" else about.zh, "r": about.rule,
                                                "s": nag.day < about.due})
        return found


@lru_cache(maxsize=65536)
def _about(about: Due, lang: str) -> dict[str, Any]:
    """What a digest entry says about its obligation, built once per obligation and language (periodic
    ones are shared by every village of a schedule), not once per nag."""
    return {"name": about.en if lang == "en" else about.zh, "period": about.period, "due": about.due.isoformat(),
            "rule": about.rule}


def _entry(nag: Nag, lang: str) -> dict[str, Any]:
    return {**_about(nag.about, lang), "kind": nag.kind, "days": abs((nag.about.due - nag.day).days)}


def _digest_row(village: Awake, person: Listener, lang: str, staff: bool, nags: list[Nag], texts: _Texts) -> Digest:
    """One person's digest (`nags` in the digest's order, see `_order`), its context and keyboard as JSON
    text (see `_queue`)."""
    entries = nags[:MAX_ENTRIES]  # the rest: /due
    listed: list[str] = []
    shown: list[str] = []
    number, last = 0, ""
    entry, button = texts.entry, texts.button
    for nag in entries:  # an obligation's nags are next to each other (the digest's order): one number each
        key = nag.about.key
        if key != last:
            number, last = number + 1, key
            if staff and nag.about.owner != SUPERVISOR:
                shown.append(button(nag, lang, number))
        listed.append(entry(nag, lang, number))
    day = entries[0].day.isoformat()
    context = f'{{"village":{_dumps(village.name)},"day":"{day}","entries":[{",".join(listed)}]}}'
    keyboard = "null"  # what the JSON column writes for None
    if shown:
        keyboard = f'{{"name":"nag","village_id":{village.id},"buttons":[{",".join(shown)}],"day":"{day}"}}'
    return person.tg_user_id, lang, context, keyboard, f"nag:{village.id}:{day}", village.id


# --- "remind me tomorrow" --------------------------------------------------------------------------------

async def snooze(session: AsyncSession, policy: Policy, person: Person, village_id: int, key: str,
                 now: datetime) -> date:
    """No reminder about this obligation to this person until tomorrow; tomorrow one reminder."""
    await directory.require(session, person.id or 0, Role.STAFF, village_id)
    village = await directory.village_by_id(session, village_id)
    tomorrow = policy.today(village, now) + timedelta(days=1)
    row = (await session.exec(select(Snooze).where(Snooze.village_id == village_id, Snooze.obligation_key == key,
                                                   Snooze.person_id == person.id))).first()
    row = row or Snooze(village_id=village_id, obligation_key=key, person_id=person.id or 0, until=tomorrow)
    row.until = tomorrow
    session.add(row)
    return tomorrow


async def reminder_buttons(session: AsyncSession, person: Person, village_id: int, day: str) -> list[dict[str, Any]]:
    """The buttons of the reminder this person received about this village on `day` (for its other pages):
    read back from the reminder's outbox row, after re-checking the person is the village's staff."""
    await directory.require(session, person.id or 0, Role.STAFF, village_id)
    row = (await session.exec(select(OutboxMessage).where(
        OutboxMessage.chat_id == person.tg_user_id, OutboxMessage.topic == f"nag:{village_id}:{day}",
        OutboxMessage.template == "nag_digest").order_by(col(OutboxMessage.id).desc()))).first()
    if row is None or not row.keyboard:
        raise DomainError("err.stale_button")
    return list(row.keyboard.get("buttons") or [])


def key_of(item_id: str, period: str, obligation_id: int) -> str:
    if obligation_id:
        return obligation_key(obligation_id)
    if not item_id:
        raise DomainError("err.stale_button")
    return f"{item_id}@{period or LONG}"

