"""What a village owes on a date, and whether it was met on time.

Periodic obligations (village, catalog item, period) are derived from the village's catalog and policy
profile, never stored; event-driven ones are `Obligation` rows (/event, petitions). An obligation is met
by a published notice (state published or corrected) tagged with its item and period; the first on-time
notice counts, and a correction (notice.corrects_id) is the same disclosure, so it never counts twice.

What is owed is bounded by the village's age, in one place (`owed_periods`): every period that fell due
on or after the day the village joined the bot, up to the next one falling due. Nothing from before the
village joined is owed; an unmet period stays owed, listed and nagged however old it gets, until it is met.

The evaluation is split in two so the daily scan can run it for 10,000 villages from a handful of
set-based queries: `load_*` fetch rows for many villages at once, `evaluate` is pure Python.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import PERIODIC, Cadence, Catalog, CatalogError, Item, Period, Procedure, Profile, Step
from catalogs.due import due_date, event_due_date, event_notes, period_notes
from catalogs.periods import period_words
from models import Notice, Obligation, Person, Village
from services.errors import DomainError
from services.events import Event, NoticePublished, ObligationMet
from services.notices import drafting, drafts
from services.notices.workflow import State
from services.people import directory
from services.people.roles import Role
from services.policy import Policy

log = logging.getLogger("cunwu.deadlines")

COUNTED_STATES = (State.PUBLISHED.value, State.CORRECTED.value)
DUE, OVERDUE, MET_ON_TIME, MET_LATE = "due", "overdue", "met_on_time", "met_late"
MET = (MET_ON_TIME, MET_LATE)
LONG = "long"
EARLIEST = date(2000, 1, 1)  # a floor for a missing join date, so the walk back always ends


@dataclass(frozen=True)
class Owed:
    """One obligation of one village, with its status on the evaluation date."""

    village_id: int
    key: str  # "<item id>@<period>", "<item id>@long" or "ob:<obligation id>"
    item_id: str | None
    period: str | None
    cadence: str  # a cadence, or the event rule of a stored obligation
    due: date | None
    status: str
    met_on: date | None = None
    obligation_id: int | None = None
    zh: str = ""
    en: str = ""
    owner: str = "staff"  # catalog item's owner: "supervisor" items are owed by the committee, not the clerk
    notes: tuple[str, ...] = ()  # catalogs.due LOCAL / WEEKDAYS: said in words beside the due date

    @property
    def committee(self) -> bool:
        """Owed by the supervisory committee (catalog `owner: supervisor`): listed to its members, not the clerk."""
        return self.owner == "supervisor"

    @property
    def open(self) -> bool:
        return self.status in (DUE, OVERDUE)

    def days_left(self, today: date) -> int | None:
        return None if self.due is None else (self.due - today).days

    def as_dict(self) -> dict[str, object]:
        return {"key": self.key, "item": self.item_id, "period": self.period, "cadence": self.cadence,
                "due": self.due.isoformat() if self.due else None, "status": self.status,
                "met_on": self.met_on.isoformat() if self.met_on else None, "obligation_id": self.obligation_id,
                "zh": self.zh, "en": self.en, "committee": self.committee, "notes": list(self.notes)}


def periodic_key(item_id: str, period: str) -> str:
    return f"{item_id}@{period}"


def obligation_key(obligation_id: int) -> str:
    return f"ob:{obligation_id}"


# --- a village's settings -----------------------------------------------------------------------------

def joined_on(policy: Policy, village: Village) -> date:
    """The local day the village joined the bot: nothing that fell due before it is owed."""
    return policy.today(village, village.created_at) if village.created_at else EARLIEST


def settings_problem(policy: Policy, village: Village) -> str | None:
    """Why the village's profile or catalog cannot be used (an import let a bad name in), or None.

    Every bulk reader (the nag scan, /due, /report, the CLI) asks this per village, logs the problem with
    the village, skips that village and goes on: one bad village never stops the others."""
    try:
        policy.profile_for(village)
        policy.catalog_for(village)
    except CatalogError as error:
        return str(error)
    return None


def log_broken(village_code: str, problem: str, where: str) -> None:
    log.error("village %s skipped by %s: %s", village_code, where, problem)


# --- the periods owed on a date -------------------------------------------------------------------------

def nearest_period(profile: Profile, cadence: Cadence, today: date) -> Period:
    """The period whose due date is the next on or after `today` (the previous one's may still be ahead)."""
    start = Period.containing(cadence, today)
    upcoming = [p for p in (start.shifted(-step) for step in range(4)) if due_date(profile, cadence, p) >= today]
    return min(upcoming, key=lambda p: (p.year, p.index)) if upcoming else start


def owed_periods(profile: Profile, cadence: Cadence, today: date, since: date) -> list[Period]:
    """Every period owed on `today`, newest first: the nearest one falling due, then each earlier one whose
    due date is on or after `since` (the day the village joined). The only bound is the village's age."""
    since = max(since, EARLIEST)
    found, period = [], nearest_period(profile, cadence, today)
    while due_date(profile, cadence, period) >= since:
        found.append(period)
        period = period.prev()
    return found


def periods_due_between(profile: Profile, cadence: Cadence, first: date, last: date) -> list[Period]:
    """Every period of the cadence whose due date falls within [first, last] (a report's quarter)."""
    found, period = [], Period.containing(cadence, first).shifted(-14)
    while period.start <= last:
        if first <= due_date(profile, cadence, period) <= last:
            found.append(period)
        period = period.next()
    return found


def _periodic_items(catalog: Catalog, monthly_finance: bool) -> list[tuple[Item, Cadence]]:
    found = []
    for item in catalog.items():
        cadence = item.effective_cadence(monthly_finance)
        if cadence in PERIODIC or cadence is Cadence.LONG_TERM:
            found.append((item, cadence))
    return found


@dataclass(frozen=True)
class Slot:
    item: Item
    cadence: Cadence
    period: Period | None  # None: long-term
    due: date | None
    key: str


SlotCache = dict[tuple[str, str, bool, date, date], list[Slot]]


def slots(policy: Policy, village: Village, today: date, since: date | None = None,
          cache: SlotCache | None = None) -> list[Slot]:
    """The periodic and long-term obligations owed on `today` (periods due from `since`, by default the day
    the village joined). Villages of one profile, catalog and finance cadence share them: the scan passes
    a cache and the earliest join date of the group. Raises CatalogError on a bad profile or catalog."""
    profile, catalog = policy.profile_for(village), policy.catalog_for(village)
    since = joined_on(policy, village) if since is None else since
    shape = (profile.name, catalog.code, village.monthly_finance, today, since)
    if cache is not None and shape in cache:
        return cache[shape]
    periods = {c: owed_periods(profile, c, today, since) for c in PERIODIC}
    found: list[Slot] = []
    for item, cadence in _periodic_items(catalog, village.monthly_finance):
        if cadence is Cadence.LONG_TERM:
            found.append(Slot(item, cadence, None, None, periodic_key(item.full_id, LONG)))
            continue
        found += [Slot(item, cadence, p, due_date(profile, cadence, p), periodic_key(item.full_id, str(p)))
                  for p in periods[cadence]]
    if cache is not None:
        cache[shape] = found
    return found


# --- what was published ----------------------------------------------------------------------------------

Published = dict[tuple[int, str, str], list[date]]  # (village, item, period or "long") -> local publish days


async def load_published(session: AsyncSession, policy: Policy, villages: dict[int, Village],
                         periods: Iterable[str] | None = None, until: datetime | None = None) -> Published:
    """One query for the published notices of these villages (every village when there are many):
    root notices only (corrections are the same disclosure), grouped by village, item and period."""
    query = select(Notice.village_id, Notice.item_id, Notice.period, Notice.published_at).where(
        col(Notice.state).in_(COUNTED_STATES), col(Notice.item_id).is_not(None),
        col(Notice.corrects_id).is_(None), col(Notice.published_at).is_not(None))
    if len(villages) <= 500:
        query = query.where(col(Notice.village_id).in_(list(villages)))
    if periods is not None:
        wanted = sorted(set(periods))
        query = query.where(col(Notice.period).in_(wanted) | col(Notice.period).is_(None))
    if until is not None:
        query = query.where(col(Notice.published_at) <= until)
    found: Published = defaultdict(list)
    for village_id, item_id, period, published_at in await session.exec(query):
        village = villages.get(village_id)
        if village is None or item_id is None or published_at is None:  # excluded by the query; for the types
            continue
        found[(village_id, item_id, period or LONG)].append(policy.today(village, published_at))
    return found


async def load_event_obligations(session: AsyncSession, village_ids: Iterable[int] | None,
                                 *, open_only: bool = False) -> dict[int, list[Obligation]]:
    query = select(Obligation)
    if village_ids is not None:
        query = query.where(col(Obligation.village_id).in_(list(village_ids)))
    if open_only:
        query = query.where(col(Obligation.met_notice_id).is_(None))
    found: dict[int, list[Obligation]] = defaultdict(list)
    for row in await session.exec(query.order_by(col(Obligation.due), col(Obligation.id))):
        found[row.village_id].append(row)
    return found


# --- status ----------------------------------------------------------------------------------------------

def status_of(due: date | None, published_on: list[date], today: date) -> tuple[str, date | None]:
    """The first on-time publication counts; otherwise the first late one; otherwise due or overdue."""
    days = sorted(d for d in published_on if d <= today)
    if due is None:
        return (MET_ON_TIME, days[0]) if days else (DUE, None)
    on_time = [d for d in days if d <= due]
    if on_time:
        return MET_ON_TIME, on_time[0]
    if days:
        return MET_LATE, days[0]
    return (OVERDUE if today > due else DUE), None


def evaluate(policy: Policy, village: Village, today: date, published: Published,
             events: list[Obligation], *, only_open_past: bool = True, slots_: list[Slot] | None = None) -> list[Owed]:
    """The village's obligations on `today`. Past periods are listed only while unmet (`only_open_past`)."""
    vid = village.id or 0
    profile = policy.profile_for(village)
    found: list[Owed] = []
    for slot in slots_ if slots_ is not None else slots(policy, village, today):
        period = str(slot.period) if slot.period else None
        status, met_on = status_of(slot.due, published.get((vid, slot.item.full_id, period or LONG), []), today)
        past = slot.due is not None and slot.due < today and slot.period is not None
        if only_open_past and past and status in MET:
            continue
        found.append(Owed(vid, slot.key, slot.item.full_id, period, slot.cadence.value, slot.due, status, met_on,
                          zh=slot.item.zh_simplified or slot.item.zh, en=slot.item.en,
                          owner=slot.item.owner, notes=period_notes(profile, slot.cadence)))
    for row in events:
        found.append(event_owed(policy, village, row, today))
    return found


def event_owed(policy: Policy, village: Village, row: Obligation, today: date) -> Owed:
    met_on = policy.today(village, row.met_at) if row.met_at else None
    status, met = status_of(row.due, [met_on] if met_on else [], today)
    item = policy.item(row.item_id)
    zh, en = ((item.zh_simplified or item.zh), item.en) if item else event_labels(policy, row)
    return Owed(row.village_id, obligation_key(row.id or 0), row.item_id, None, row.rule, row.due, status, met,
                obligation_id=row.id, zh=zh, en=en, owner=item.owner if item else "staff",
                notes=event_notes(policy.profile_for(village), row.rule, row.event_date))


def event_labels(policy: Policy, row: Obligation) -> tuple[str, str]:
    """An obligation without a catalog item is named by its title; a procedure's disclosure (a matter
    recorded with /matter) adds the step's own names (catalog data), so its two disclosures differ; a
    consultation's outcome (/consult) says so."""
    if row.source == "matter":
        for catalog in policy.registry.catalogs.values():
            for procedure in catalog.procedures:
                step = next((s for s in procedure.disclosures() if _step_rule(s) == row.rule), None)
                if step is not None:
                    return f"{step.zh}：{row.title}", f"{step.en}: {row.title}"
    if row.source == "consultation":  # a consultation's outcome (services/procedures/consultations.py)
        return policy.label("zh", "consult.outcome", topic=row.title), \
            policy.label("en", "consult.outcome", topic=row.title)
    return row.title, row.title


async def for_village(session: AsyncSession, policy: Policy, village: Village, today: date, *,
                      as_of: datetime | None = None) -> list[Owed]:
    """What one village owes on `today` (notices published after `as_of` are not yet known).
    Raises CatalogError when the village's profile or catalog is unknown."""
    current = slots(policy, village, today)
    periods = {str(s.period) for s in current if s.period}
    published = await load_published(session, policy, {village.id or 0: village}, periods, until=as_of)
    events = (await load_event_obligations(session, [village.id or 0])).get(village.id or 0, [])
    visible = [e for e in events if e.met_notice_id is None or e.due >= today or
               (e.met_at is not None and policy.today(village, e.met_at) >= today)]
    if as_of is not None:
        visible = [_unmet_after(e, as_of) for e in visible if e.created_at is None or e.created_at <= as_of]
    return evaluate(policy, village, today, published, visible, slots_=current)


def _unmet_after(row: Obligation, as_of: datetime) -> Obligation:
    if row.met_at is not None and row.met_at > as_of:
        return row.model_copy(update={"met_at": None, "met_notice_id": None})
    return row


def end_of_local_day(policy: Policy, village: Village, day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=policy.tz(village))


async def village_on(session: AsyncSession, policy: Policy, code: str, day: date) -> tuple[Village, list[Owed]]:
    """`cunwu obligations --village CODE --date D`: the obligations as they stood at the end of that day."""
    village = await directory.village_by_code(session, code)
    if village is None:
        raise DomainError("err.no_village")
    problem = settings_problem(policy, village)
    if problem is not None:
        log_broken(village.code, problem, "cunwu obligations")
        raise DomainError("dl.village_broken", village=village.code, problem=problem)
    return village, await for_village(session, policy, village, day, as_of=end_of_local_day(policy, village, day))


# --- /due ------------------------------------------------------------------------------------------------

DUE_ROLES = (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR)


@dataclass(frozen=True)
class VillageDue:
    village: Village
    today: date
    owed: list[Owed]
    problem: str | None = None  # the village's settings are broken: nothing can be listed


async def due_for(session: AsyncSession, policy: Policy, person: Person, now: datetime) -> list[VillageDue]:
    """/due: for every village where the person is staff or a reviewer, what is due, overdue, met lately.
    What the supervisory committee owes is listed to its members (and the secretary), not to the clerk."""
    villages: dict[int, Village] = {}
    committee: set[int] = set()
    for role in DUE_ROLES:
        for village in await directory.villages_where(session, person.id or 0, role):
            villages.setdefault(village.id or 0, village)
            if role is not Role.STAFF:
                committee.add(village.id or 0)
    if not villages:
        raise DomainError("err.not_role", role=Role.STAFF.value)
    result = []
    for village in villages.values():
        today = policy.today(village, now)
        problem = settings_problem(policy, village)
        if problem is not None:
            log_broken(village.code, problem, "/due")
            result.append(VillageDue(village, today, [], problem))
            continue
        owed = await for_village(session, policy, village, today)
        owed = [o for o in owed if (o.open or (o.met_on is not None and o.due is not None))
                and (not o.committee or village.id in committee)]
        result.append(VillageDue(village, today, sorted(owed, key=_order)))
    return result


def _order(owed: Owed) -> tuple[int, date, str]:
    rank = {OVERDUE: 0, DUE: 1, MET_LATE: 2, MET_ON_TIME: 3}[owed.status]
    return rank, owed.due or date.max, owed.key


# --- events ----------------------------------------------------------------------------------------------

EVENT_DRIVEN = (Cadence.IMMEDIATE, Cadence.ADHOC, Cadence.STAGED)


@dataclass(frozen=True)
class EventKind:
    """What /event can register: the obligations (event rules, catalogs.due.event_rules keys) an event on
    a date creates, and which of the village's catalog items such a disclosure is filed under."""

    code: str  # "syl.resolution" (a procedure step), "plan", "election", ...
    rules: tuple[str, ...]
    cadences: tuple[Cadence, ...]  # the catalog items it can be tied to have one of these cadences
    zh: str | None = None  # the label, when it comes from catalog data; else the locale's dl.event.<code>
    en: str | None = None


# The profile's named events (DOMAIN.md T-PLAN2, T-ELECT, T-STAGED, T-AGENDA3): one date, these rules.
PROFILE_EVENTS = (
    EventKind("plan", ("plan",), (Cadence.LONG_TERM,)),
    EventKind("election", ("election_voter_list", "election_candidates", "election_results",
                                "election_certificates"), (Cadence.ADHOC,)),
    EventKind("staged_before", ("staged.before",), (Cadence.STAGED,)),
    EventKind("staged_during", ("staged.during",), (Cadence.STAGED,)),
    EventKind("staged_after", ("staged.after",), (Cadence.STAGED,)),
    EventKind("meeting", ("agenda",), EVENT_DRIVEN),
)


def procedure_kinds(procedure: Procedure) -> list[EventKind]:
    """Each disclosure step of a procedure (四议两公开: the resolution, T-NOW; the implementation result,
    T-ADHOC10) is an event kind; its rule is the step's cadence, its label the step's own names."""
    return [EventKind(f"{procedure.code}.{step.code}", (_step_rule(step),), EVENT_DRIVEN,
                      f"{procedure.names.zh}：{step.zh}", f"{procedure.names.en}: {step.en}")
            for step in procedure.disclosures()]


def _step_rule(step: Step) -> str:
    return step.cadence.value if step.cadence is not None else Cadence.IMMEDIATE.value


def event_kinds(policy: Policy) -> dict[str, EventKind]:
    """The procedures of every catalog (a procedure such as 四议两公开 applies to any village, whichever
    catalog transcribes it), then the profile's named events."""
    found = {kind.code: kind for catalog in policy.registry.catalogs.values()
             for procedure in catalog.procedures for kind in procedure_kinds(procedure)}
    found.update({kind.code: kind for kind in PROFILE_EVENTS})
    return found


def event_kind(policy: Policy, code: str) -> EventKind:
    kind = event_kinds(policy).get(code)
    if kind is None:
        raise DomainError("err.stale_button")
    return kind


async def event_items(session: AsyncSession, policy: Policy, person: Person, village_id: int,
                      code: str) -> list[Item]:
    """The village's catalog items an event of this kind can be disclosed under (the staff picks one)."""
    await directory.require(session, person.id or 0, Role.STAFF, village_id)
    kind = event_kind(policy, code)
    village = await directory.village_by_id(session, village_id)
    return [item for item in policy.catalog_for(village).items() if item.cadence in kind.cadences]


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise DomainError("dl.bad_date", text=text.strip()[:40]) from error


@dataclass(frozen=True)
class Registered:
    kind: EventKind
    item: Item | None
    day: date
    rows: list[Obligation]
    profile: Profile | None = None

    def shown(self) -> list[dict[str, object]]:
        """Each obligation as the reply lists it: its rule, due date, and what must be said about the date."""
        return [{"rule": row.rule, "due": row.due.isoformat(),
                 "notes": event_notes(self.profile, row.rule, row.event_date) if self.profile else ()}
                for row in self.rows]


async def register_event(session: AsyncSession, policy: Policy, person: Person, village_id: int, code: str,
                         item_code: str | None, day_text: str, now: datetime) -> Registered:
    """/event: a procedure step, plan, election, project stage or meeting on a date -> obligations, tied to
    the catalog item they are disclosed under, so an ordinary notice tagged with that item meets them."""
    items = {item.code: item for item in await event_items(session, policy, person, village_id, code)}
    item = items.get(item_code or "")
    if item_code and item is None:
        raise DomainError("err.stale_button")
    day = parse_day(day_text)
    if abs(day.year - now.year) > 5:
        raise DomainError("dl.date_out_of_range", text=day.isoformat())
    profile = policy.profile_for(await directory.village_by_id(session, village_id))
    kind, created = event_kind(policy, code), []
    for rule in kind.rules:
        row = Obligation(village_id=village_id, source="event", rule=rule, title=code, event_date=day,
                         item_id=item.full_id if item else None, due=event_due_date(profile, rule, day),
                         created_by=person.id, created_at=now)
        session.add(row)
        created.append(row)
    await session.flush()
    return Registered(kind, item, day, created, profile)


async def on_published(session: AsyncSession, event: Event) -> list[Event]:
    """Reaction to a publication (services.reactions): the event obligation the notice meets (named by the
    draft, or the earliest open one of the same item) gets met_notice_id and met_at."""
    assert isinstance(event, NoticePublished)
    notice, now = event.notice, event.at
    row: Obligation | None = None
    if notice.obligation_id is not None:
        row = await session.get(Obligation, notice.obligation_id)
        if row is not None and (row.village_id != notice.village_id or row.met_notice_id is not None):
            row = None
    elif notice.item_id:
        row = (await session.exec(select(Obligation).where(
            Obligation.village_id == notice.village_id, Obligation.item_id == notice.item_id,
            col(Obligation.met_notice_id).is_(None)).order_by(col(Obligation.due)))).first()
    if row is None:
        return []
    row.met_notice_id, row.met_at = notice.id, now
    session.add(row)
    return [ObligationMet(row, notice, now)]


# --- "draft it now" --------------------------------------------------------------------------------------

async def draft_for(session: AsyncSession, policy: Policy, person: Person, village_id: int, item_id: str | None,
                    period: str | None, obligation_id: int | None, now: datetime) -> Notice:
    """A draft with the obligation's item and period filled in (the period checked like a typed one)."""
    if obligation_id is not None:
        row = await session.get(Obligation, obligation_id)
        if row is None or row.village_id != village_id:
            raise DomainError("err.stale_button")
        item_id = row.item_id
    elif item_id is not None:
        village = await directory.village_by_id(session, village_id)
        item = policy.item(item_id)
        if item is None or item.catalog_code != policy.catalog_for(village).code:
            raise DomainError("err.stale_button")
    notice = await drafts.create_draft(session, person, village_id, item_id, None, now, obligation_id=obligation_id)
    if period and period != LONG:
        await drafting.set_period(session, policy, person, notice.id or 0, period)
    return notice


# --- "nothing to disclose this period" ------------------------------------------------------------------

async def declare_nothing(session: AsyncSession, policy: Policy, person: Person, notice_id: int,
                          now: datetime) -> Notice:
    """The draft says that nothing is to be disclosed for its periodic item and period (notice.j2 prints
    it); it is reviewed and published like any notice and, published, meets the obligation. A draft still
    without a title is titled with the item's name and the period (catalog data; the clerk may edit it)."""
    notice = await drafts.editable(session, person, notice_id)
    village = await directory.village_by_id(session, notice.village_id)
    item = policy.item(notice.item_id)
    if item is None or not notice.period or item.effective_cadence(village.monthly_finance) not in PERIODIC:
        raise DomainError("dl.nothing_not_periodic")
    if not notice.title:
        title = f"{period_words(notice.period, 'zh')}{item.zh_simplified or item.zh}"  # 2026年第一季度村级…
        notice = await drafts.set_title(session, person, notice_id, title, now)
    notice.nothing_to_disclose = True
    session.add(notice)
    await session.flush()
    return notice


async def draft_nothing(session: AsyncSession, policy: Policy, person: Person, village_id: int, item_id: str,
                        period: str, now: datetime) -> Notice:
    """The nag's "nothing to disclose this period": the draft for that obligation, declared empty."""
    notice = await draft_for(session, policy, person, village_id, item_id or None, period or None, None, now)
    return await declare_nothing(session, policy, person, notice.id or 0, now)
