"""What an inspector does about a village: 督办 (urge) and 限期整改 (a rectification order with a deadline).

Both name the obligations concerned (by default every one the village has overdue), reach the village's
staff and secretary at once with "draft it now" buttons (the nag keyboard), and are written to the desk's
log (DeskAction), which the village's page shows. An order stays open until every obligation it names is
met: a publication that meets one (NoticePublished for a periodic obligation, ObligationMet for an event
one, services.reactions) records it, and the last one closes the order. The hourly job reminds the village
3 days and 1 day before the deadline and escalates to the township once when it passes (`scan`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import BoundChat, DeskAction, NagLog, Person, Rectification, RoleGrant, Township, Village
from services.deadlines.obligations import LONG, obligation_key, periodic_key
from services.errors import DomainError
from services.events import Event, NoticePublished, ObligationMet
from services.outbox import queue, queue_to_person
from services.people import directory
from services.people.roles import Role
from services.policy import Policy
from services.township import access
from services.township.ranking import owed_view, rank

TOLD = (Role.STAFF, Role.SECRETARY)
MAX_NAMED = 6  # obligations a message names with a button (the rest are in the console and /due)
REMIND_BEFORE = (3, 1)
MAX_NOTE = 500


async def overdue_of(session: AsyncSession, policy: Policy, township: Township, village: Village,
                     now: datetime) -> list[dict[str, str]]:
    ranking = await rank(session, policy, [township], now)
    row = next((r for r in ranking.villages if r.village_id == village.id), None)
    return [owed_view(o) for o in row.overdue] if row else []


async def _what(session: AsyncSession, policy: Policy, township: Township, village: Village, now: datetime,
                keys: list[str] | None) -> list[dict[str, str]]:
    overdue = await overdue_of(session, policy, township, village, now)
    chosen = [o for o in overdue if keys is None or o["key"] in keys]
    if not chosen:
        raise DomainError("desk.nothing_overdue", village=village.name)
    return chosen


def _clean_note(note: str | None) -> str:
    return (note or "").strip()[:MAX_NOTE]


def _buttons(what: list[dict[str, str]], lang: str) -> list[dict[str, object]]:
    return [{"i": w["item"], "p": w["period"] or (LONG if not w["ob"] else ""), "o": int(w["ob"] or 0),
             "l": (w["en"] if lang == "en" else w["zh"])[:24], "s": False} for w in what[:MAX_NAMED]]


async def _tell_village(session: AsyncSession, village: Village, template: str, context: Mapping[str, object],
                        what: list[dict[str, str]], topic: str) -> int:
    told: dict[int, Person] = {}
    for role in TOLD:
        for person in await directory.people_with_role(session, village.id or 0, role):
            told.setdefault(person.id or 0, person)
    for person in told.values():
        lang = person.language or village.language
        keyboard = {"name": "nag", "village_id": village.id, "buttons": _buttons(what, lang)} if what else None
        queue_to_person(session, person, template, {**context, "village": village.name, "what": what[:20],
                                                    "more": max(0, len(what) - 20)},
                        keyboard=keyboard, topic=f"{topic}:{person.id}", village_id=village.id)
    return len(told)


def _log(session: AsyncSession, township_id: int, village_id: int | None, person_id: int | None, kind: str,
         now: datetime, *, what: list[dict[str, str]] | None = None, note: str = "", order_id: int | None = None,
         inspection_id: int | None = None) -> DeskAction:
    action = DeskAction(township_id=township_id, village_id=village_id, person_id=person_id, kind=kind,
                        what=what or [], note=note or None, order_id=order_id, inspection_id=inspection_id, at=now)
    session.add(action)
    return action


async def urge(session: AsyncSession, policy: Policy, person: Person, village_id: int, note: str | None,
               now: datetime, keys: list[str] | None = None) -> tuple[Village, int]:
    """督办: the village's staff and secretary are told at once; returns the village and how many were told."""
    township, village = await access.village(session, person.id or 0, village_id)
    what = await _what(session, policy, township, village, now, keys)
    text = _clean_note(note)
    action = _log(session, township.id or 0, village.id, person.id, "urge", now, what=what, note=text)
    await session.flush()  # its id names the messages (an outbox topic holds 40 characters)
    told = await _tell_village(session, village, "desk_urge", {"township": township.name, "note": text}, what,
                               f"urge:{action.id}")
    return village, told


def parse_deadline(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise DomainError("dl.bad_date", text=text.strip()[:40]) from error


async def rectify(session: AsyncSession, policy: Policy, person: Person, village_id: int, deadline: date,
                  note: str | None, now: datetime, keys: list[str] | None = None) -> Rectification:
    """限期整改: an order to meet these obligations by `deadline` (today or later, village time)."""
    township, village = await access.village(session, person.id or 0, village_id)
    today = policy.today(village, now)
    if deadline < today:
        raise DomainError("desk.deadline_past", day=deadline.isoformat(), today=today.isoformat())
    if deadline > today + timedelta(days=366):
        raise DomainError("dl.date_out_of_range", text=deadline.isoformat())
    what = await _what(session, policy, township, village, now, keys)
    order = Rectification(township_id=township.id or 0, village_id=village.id or 0, ordered_by=person.id,
                          deadline=deadline, note=_clean_note(note), what=what, created_at=now)
    session.add(order)
    await session.flush()
    _log(session, township.id or 0, village.id, person.id, "rectify", now, what=what, note=order.note,
         order_id=order.id)
    await _tell_village(session, village, "desk_rectify", {"township": township.name, "note": order.note,
                                                           "deadline": deadline.isoformat(), "order": order.id},
                        what, f"rectify:{order.id}")
    return order


# --- closing by itself --------------------------------------------------------------------------------

async def _met(session: AsyncSession, village_id: int, key: str, at: datetime) -> list[Event]:
    orders = await session.exec(select(Rectification).where(Rectification.village_id == village_id,
                                                            Rectification.state == "open"))
    for order in orders:
        keys = [w["key"] for w in order.what]
        if key not in keys or key in order.met_keys:
            continue
        order.met_keys = [*order.met_keys, key]
        if set(keys) <= set(order.met_keys):
            order.state, order.closed_at = "closed", at
            _log(session, order.township_id, village_id, None, "closed", at, what=order.what, order_id=order.id)
            await _tell_closed(session, order)
        session.add(order)
    return []


async def _tell_closed(session: AsyncSession, order: Rectification) -> None:
    village = await directory.village_by_id(session, order.village_id)
    township = await session.get(Township, order.township_id)
    context = {"township": township.name if township else "", "deadline": order.deadline.isoformat(),
               "order": order.id, "village": village.name}
    await _tell_village(session, village, "desk_closed", context, [], f"rc-closed:{order.id}")
    for person in await inspectors(session, order.township_id):
        queue_to_person(session, person, "desk_closed", context, topic=f"rc-closed:{order.id}:{person.id}")


async def on_published(session: AsyncSession, event: Event) -> list[Event]:
    """Reaction (services.reactions): a published periodic disclosure may meet an order's obligation."""
    assert isinstance(event, NoticePublished)
    notice = event.notice
    if notice.item_id and notice.obligation_id is None:
        return await _met(session, notice.village_id, periodic_key(notice.item_id, notice.period or LONG),
                          event.at)
    return []


async def on_obligation_met(session: AsyncSession, event: Event) -> list[Event]:
    """Reaction (services.reactions): an event obligation named by an order was met."""
    assert isinstance(event, ObligationMet)
    row = event.obligation
    return await _met(session, row.village_id, obligation_key(row.id or 0), event.at)


# --- reminders and escalation -----------------------------------------------------------------------------

async def inspectors(session: AsyncSession, township_id: int) -> list[Person]:
    return list(await session.exec(select(Person).join(RoleGrant, col(RoleGrant.person_id) == Person.id).where(
        RoleGrant.role == Role.INSPECTOR.value, RoleGrant.township_id == township_id, RoleGrant.status == "active")))


async def _claim(session: AsyncSession, village_id: int, key: str, kind: str, day: date, now: datetime) -> bool:
    """Once per order, kind and day (the nag log's key), however often the hourly job runs."""
    seen = await session.get(NagLog, (village_id, key, kind, day))
    if seen is not None:
        return False
    session.add(NagLog(village_id=village_id, obligation_key=key, kind=kind, day=day, sent_at=now))
    await session.flush()
    return True


async def scan(session: AsyncSession, policy: Policy, now: datetime) -> int:
    """Open orders: a reminder to the village 3 and 1 days before the deadline; once the deadline has
    passed, one escalation to the township's inspectors and filing group. Returns messages queued."""
    count = 0
    orders = list(await session.exec(select(Rectification).where(Rectification.state == "open")))
    for order in orders:
        village = await directory.village_by_id(session, order.village_id)
        today, key = policy.today(village, now), f"rc:{order.id}"
        left = (order.deadline - today).days
        context = {"deadline": order.deadline.isoformat(), "order": order.id, "days": left}
        if left in REMIND_BEFORE and await _claim(session, village.id or 0, key, f"rc_T-{left}", today, now):
            todo = [w for w in order.what if w["key"] not in order.met_keys]
            topic = f"rc-remind:{order.id}:{left}"
            count += await _tell_village(session, village, "desk_reminder", context, todo, topic)
            _log(session, order.township_id, village.id, None, "reminded", now, what=todo, order_id=order.id)
        elif left < 0 and order.escalated_at is None:
            count += await _escalate(session, order, village, now)
    return count


async def _escalate(session: AsyncSession, order: Rectification, village: Village, now: datetime) -> int:
    order.escalated_at = now
    session.add(order)
    todo = [w for w in order.what if w["key"] not in order.met_keys]
    township = await session.get(Township, order.township_id)
    context = {"deadline": order.deadline.isoformat(), "order": order.id, "village": village.name,
               "township": township.name if township else "", "what": todo[:20], "more": max(0, len(todo) - 20)}
    _log(session, order.township_id, village.id, None, "escalated", now, what=todo, order_id=order.id)
    count = 0
    for person in await inspectors(session, order.township_id):
        queue_to_person(session, person, "desk_escalated", context, topic=f"rc-late:{order.id}:{person.id}")
        count += 1
    for chat in await session.exec(select(BoundChat).where(BoundChat.township_id == order.township_id,
                                                           BoundChat.purpose == "filing", BoundChat.active == True)):  # noqa: E712
        queue(session, chat.chat_id, "desk_escalated", context, topic=f"rc-late:{order.id}:{chat.chat_id}")
        count += 1
    return count
