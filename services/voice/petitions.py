"""Petitions (T-NOW): residents jointly ask for a matter to be disclosed. At ceil(population / 10) resident
signatures, or ceil(representatives / 5) representative signatures, the disclosure becomes due at once.

Lifecycle: pending -> open (staff or committee confirm, or by itself after REVIEW_DAYS) | refused;
open -> granted (threshold) | expired (petition_days); granted -> closed (the disclosure is published).

Counting is exact under concurrency: every signer's transaction first moves the counter with a conditional
UPDATE on the petition row (which also serialises signers of one petition), and the threshold is claimed
by a second conditional UPDATE that only one transaction can win.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs.due import event_due_date
from models import Obligation, OutboxMessage, Person, Petition, PetitionPost, Signature, Village
from services import privacy
from services.errors import DomainError, NotAllowed
from services.events import Event, ObligationMet
from services.notices import drafts, duties
from services.outbox import queue, queue_to_person, require_clean
from services.people import directory, official_numbers, village_numbers
from services.people.roles import Role
from services.policy import Policy
from services.voice import limits as voice_limits

TITLE_MAX = 200
REQUEST_MAX = 2_000
REASON_MAX = 1_000
REVIEW_DAYS = 2
EDIT_INTERVAL = timedelta(seconds=3)  # at most one edit of a group post per this interval
POST_TOPIC = "pp:{id}"
REVIEWERS = (Role.STAFF, Role.SUPERVISOR)
TOLD_ON_GRANT = (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR, Role.INSPECTOR)


# --- starting -----------------------------------------------------------------------------------------

def check_title(text: str | None) -> str:
    return drafts.clean_text(text, TITLE_MAX, too_long="voice.title_too_long")


def check_request(text: str | None) -> str:
    return drafts.clean_text(text, REQUEST_MAX, too_long="voice.too_long")


# --- the privacy screen: a petition is posted to every resident group ------------------------------------

def findings(*texts: str, official: Collection[str] = ()) -> list[privacy.Finding]:
    """The personal numbers in a petition's title and request (at submission the petitioner masks them with
    one tap; a petition that still has any never opens by itself and opens masked when staff confirm it).
    `official`: the village's official numbers (`official_keys`), never flagged."""
    return [finding for text in texts for finding in privacy.screen(text, official)]


def masked(text: str, official: Collection[str] = ()) -> str:
    return privacy.mask_all(text, privacy.screen(text, official))


async def official_keys(session: AsyncSession, village_id: int) -> frozenset[str]:
    """The village's official numbers' keys, never flagged by the screen; loading them also keeps them in the
    session, where the outbox's gate reads them (outbox.OFFICIAL_KEYS) for every row of this village."""
    return await official_numbers.keys(session, village_id)


def _require_screened(title: str, request: str, official: Collection[str]) -> None:
    found = findings(title, request, official=official)
    if found:
        raise DomainError("privacy_gate.blocked", masked=", ".join(f.masked for f in found))


async def village_of_resident(session: AsyncSession, person: Person) -> Village:
    """The village where the person is a confirmed resident (the first, if several)."""
    villages = await directory.villages_where(session, person.id or 0, Role.RESIDENT)
    if not villages:
        raise NotAllowed("voice.not_resident")
    return villages[0]


def daily_quota(policy: Policy, village: Village, now: datetime, limit: int) -> voice_limits.Quota:
    """`limit` petitions a person may start per day of the village's calendar (PETITION_DAILY_LIMIT)."""
    return voice_limits.daily(policy, village, now, voice_limits.PETITION, limit, "voice.petition_rate_limited")


def signing_quota(now: datetime, limit: int) -> voice_limits.Quota:
    """`limit` signatures and withdrawals a person may make in an hour (SIGNING_HOURLY_LIMIT)."""
    return voice_limits.hourly(now, voice_limits.SIGN, limit, "voice.signing_rate_limited")


async def begin(session: AsyncSession, policy: Policy, person: Person, now: datetime, limit: int) -> Village:
    """/petition: the person's village, unless they have started as many petitions today as they may."""
    village = await village_of_resident(session, person)
    await voice_limits.check(session, person.id or 0, daily_quota(policy, village, now, limit))
    return village


async def population_gate(session: AsyncSession, village: Village) -> bool:
    """No petition starts while the village's population is unknown (its threshold would be computed from zero):
    False then, and the village's staff are told to set it (/village)."""
    if village_numbers.population_known(village):
        return True
    staff = await directory.people_with_role(session, village.id or 0, Role.STAFF)
    village_numbers.tell_staff_population_missing(session, staff, village)
    return False


async def create(session: AsyncSession, policy: Policy, person: Person, village_id: int, title: str, request: str,
                 item_code: str | None, now: datetime, limit: int) -> Petition:
    await directory.require(session, person.id or 0, Role.RESIDENT, village_id)
    village = await directory.village_by_id(session, village_id)
    await voice_limits.take(session, person.id or 0, daily_quota(policy, village, now, limit))
    item_id = None
    if item_code is not None:
        known = {i.code: i.full_id for i in policy.catalog_for(village).items()}
        if item_code not in known:
            raise DomainError("err.stale_button")
        item_id = known[item_code]
    _require_screened(title, request, await official_keys(session, village_id))
    petition = Petition(village_id=village_id, person_id=person.id or 0, title=check_title(title),
                        request=check_request(request), item_id=item_id, created_at=now,
                        opens_at=now + timedelta(days=REVIEW_DAYS))
    session.add(petition)
    await session.flush()
    view = petition_view(petition, policy.item(item_id))
    for role in REVIEWERS:
        for reviewer in await directory.people_with_role(session, village_id, role):
            if reviewer.id == person.id:
                continue  # the petitioner does not confirm their own petition
            queue_to_person(session, reviewer, "petition_review", {**view, "by": person.name},
                            keyboard={"name": "petition_review", "petition_id": petition.id}, village_id=village_id)
    return petition


def petition_view(petition: Petition, item: Any = None) -> dict[str, Any]:
    return {
        "petition_id": petition.id, "title": petition.title, "request": petition.request, "state": petition.state,
        "item": {"zh": item.zh_shown, "en": item.en} if item else None,
        "residents": petition.resident_count, "residents_needed": petition.residents_needed,
        "representatives": petition.representative_count, "representatives_needed": petition.representatives_needed,
        "expires_on": petition.expires_at.date().isoformat() if petition.expires_at else None,
        "reason": petition.refuse_reason,
    }


async def get(session: AsyncSession, petition_id: int) -> Petition:
    petition = await session.get(Petition, petition_id) if 0 < petition_id < 2**31 else None
    if petition is None:
        raise DomainError("voice.no_petition")
    return petition


async def _require_reviewer(session: AsyncSession, person: Person, village_id: int) -> None:
    for role in REVIEWERS:
        if await directory.holds(session, person.id or 0, role, village_id):
            return
    raise NotAllowed("err.not_role", role=Role.STAFF.value)


# --- review: confirm, refuse, or open by itself -----------------------------------------------------------

async def confirm(session: AsyncSession, policy: Policy, person: Person, petition_id: int, now: datetime,
                  days: int) -> Petition:
    petition = await get(session, petition_id)
    await _require_reviewer(session, person, petition.village_id)
    duties.check_not_author(person, petition.person_id, "duties.own_petition")
    return await open_petition(session, policy, petition, now, days, reviewer=person)


async def check_refusal(session: AsyncSession, person: Person, petition_id: int) -> Petition:
    """Before asking the reason: the tap is the reviewer's and the petition still waits."""
    petition = await get(session, petition_id)
    await _require_reviewer(session, person, petition.village_id)
    if petition.state != "pending":
        raise DomainError("err.already_decided")
    return petition


async def refuse(session: AsyncSession, person: Person, petition_id: int, reason: str, now: datetime) -> Petition:
    petition = await check_refusal(session, person, petition_id)
    reason = require_clean(drafts.clean_text(reason, REASON_MAX, too_long="notice.reason_too_long"),
                           await official_keys(session, petition.village_id))
    claimed = await session.exec(
        update(Petition).where(col(Petition.id) == petition.id, col(Petition.state) == "pending")
        .values(state="refused", refuse_reason=reason, reviewed_by=person.id, closed_at=now))
    if claimed.rowcount != 1:
        raise DomainError("err.already_decided")
    await session.refresh(petition)
    petitioner = await session.get(Person, petition.person_id)
    if petitioner is not None:
        queue_to_person(session, petitioner, "petition_refused", petition_view(petition),
                        village_id=petition.village_id)
    return petition


def thresholds(village: Village) -> tuple[int, int]:
    """ceil(population / 10) residents (at least one); ceil(representatives / 5), 0 when the village has
    no representatives (that route is then closed, not open to zero signatures)."""
    return max(1, math.ceil(village.population / 10)), math.ceil(village.representatives / 5)


async def open_petition(session: AsyncSession, policy: Policy, petition: Petition, now: datetime, days: int,
                        reviewer: Person | None = None) -> Petition:
    """Freeze the thresholds and post the petition to every resident group of the village. Whatever personal
    number the screen finds now (one it learned since the submission) is masked for good before it goes out."""
    village = await directory.village_by_id(session, petition.village_id)
    if not village_numbers.population_known(village):  # set since? /village; until then it waits
        raise DomainError("village.population_unknown_staff", village=village.name)
    residents, representatives = thresholds(village)
    official = await official_keys(session, petition.village_id)
    claimed = await session.exec(
        update(Petition).where(col(Petition.id) == petition.id, col(Petition.state) == "pending")
        .values(state="open", title=masked(petition.title, official), request=masked(petition.request, official),
                opened_at=now,
                expires_at=now + timedelta(days=days), residents_needed=residents,
                representatives_needed=representatives, reviewed_by=reviewer.id if reviewer else None))
    if claimed.rowcount != 1:
        raise DomainError("err.already_decided")
    await session.refresh(petition)
    petitioner = await session.get(Person, petition.person_id)
    # The starter's own signature may reach the threshold (a village of ten or fewer): the petition is then
    # granted at once, and the groups see it already granted, without a sign button.
    granted = petitioner is not None and await _starter_signs(session, policy, petition, petitioner, now)
    view = petition_view(petition, policy.item(petition.item_id))
    for chat in await directory.bound_chats(session, petition.village_id):
        post = PetitionPost(petition_id=petition.id or 0, chat_id=chat.chat_id)
        session.add(post)
        await session.flush()
        queue(session, chat.chat_id, "petition_post", view, lang=village.language, village_id=petition.village_id,
              topic=POST_TOPIC.format(id=post.id), keyboard=_sign_keyboard(petition))
    if petitioner is not None and not granted:  # when granted, they heard so as its first signer
        queue_to_person(session, petitioner, "petition_opened", {**view, "signed": True},
                        village_id=petition.village_id,
                        keyboard={"name": "petition_state", "petition_id": petition.id})
    return petition


async def _starter_signs(session: AsyncSession, policy: Policy, petition: Petition, starter: Person,
                         now: datetime) -> bool:
    """Whoever starts a petition signs it by starting it: their signature is the first once it opens (no rate
    limit: they asked for it). True when that alone reached the threshold (the petition is then granted)."""
    try:
        resident, representative = await _signer_roles(session, starter, petition)
    except NotAllowed:
        return False  # moved away meanwhile: the petition opens without them
    await session.exec(update(Petition).where(col(Petition.id) == petition.id)
                       .values(resident_count=Petition.resident_count + int(resident),
                               representative_count=Petition.representative_count + int(representative)))
    await _record_signature(session, petition, starter, resident, representative, now)
    await session.refresh(petition)
    if await _claim_threshold(session, petition, now):
        await _granted(session, policy, petition, now)
        return True
    return False


def _sign_keyboard(petition: Petition) -> dict[str, Any] | None:
    return {"name": "petition_sign", "petition_id": petition.id} if petition.state == "open" else None


async def open_due(session: AsyncSession, policy: Policy, now: datetime, days: int) -> int:
    """Petitions nobody decided within REVIEW_DAYS open by themselves; one in which the screen finds a personal
    number does not: it waits for staff to confirm it (and is then posted masked)."""
    rows = await session.exec(select(Petition).where(Petition.state == "pending", col(Petition.opens_at) <= now))
    opened = 0
    for petition in list(rows):
        if findings(petition.title, petition.request, official=await official_keys(session, petition.village_id)):
            continue
        try:
            await open_petition(session, policy, petition, now, days)
            opened += 1
        except DomainError:
            continue  # decided meanwhile
    return opened


# --- signing -----------------------------------------------------------------------------------------------

async def signing_screen(session: AsyncSession, person: Person, petition_id: int,
                         now: datetime) -> tuple[Petition, bool]:
    """The confirm screen: (the petition, whether the person has signed it). Signing needs a resident's or a
    representative's role; withdrawing one's own signature does not (someone who moved away may take it back)."""
    petition = await get(session, petition_id)
    _require_open(petition, now)
    signed = await has_signed(session, person, petition.id or 0)
    if not signed:
        await _signer_roles(session, person, petition)
    return petition, signed


def _require_open(petition: Petition, now: datetime) -> None:
    if petition.state == "open" and petition.expires_at is not None and petition.expires_at <= now:
        raise DomainError("voice.petition_expired")
    errors = {"pending": "voice.petition_pending", "refused": "voice.petition_refused",
              "granted": "voice.petition_granted", "closed": "voice.petition_granted",
              "expired": "voice.petition_expired"}
    if petition.state in errors:
        raise DomainError(errors[petition.state])


async def _signer_roles(session: AsyncSession, person: Person, petition: Petition) -> tuple[bool, bool]:
    """(counts as a resident, counts as a representative) in the petition's village; neither: refused. A
    representative counts only where the village has the representatives' route (its official number of
    representatives was not 0 when the petition opened): otherwise the signature would count toward nothing."""
    resident = await directory.holds(session, person.id or 0, Role.RESIDENT, petition.village_id)
    representative = petition.representatives_needed > 0 and await directory.holds(
        session, person.id or 0, Role.REPRESENTATIVE, petition.village_id)
    if not (resident or representative):
        raise NotAllowed("voice.not_resident")
    return resident, representative


async def sign(session: AsyncSession, policy: Policy, person: Person, petition_id: int, now: datetime,
               limit: int) -> Petition:
    petition = await get(session, petition_id)
    resident, representative = await _signer_roles(session, person, petition)
    await voice_limits.take(session, person.id or 0, signing_quota(now, limit))
    # First the counter: this UPDATE takes the petition's row (PostgreSQL) or the write lock (SQLite), so
    # what follows sees every earlier signer's commit.
    moved = await session.exec(
        update(Petition).where(col(Petition.id) == petition.id, col(Petition.state) == "open",
                               col(Petition.expires_at) > now)
        .values(resident_count=Petition.resident_count + int(resident),
                representative_count=Petition.representative_count + int(representative)))
    if moved.rowcount != 1:
        await session.refresh(petition)
        _require_open(petition, now)
        raise DomainError("voice.petition_expired")
    await _record_signature(session, petition, person, resident, representative, now)
    await session.refresh(petition)
    if await _claim_threshold(session, petition, now):
        await _granted(session, policy, petition, now)
    else:
        await refresh_posts(session, policy, petition, now)
    return petition


async def _record_signature(session: AsyncSession, petition: Petition, person: Person, resident: bool,
                            representative: bool, now: datetime) -> None:
    existing = (await session.exec(select(Signature).where(
        Signature.petition_id == petition.id, Signature.person_id == person.id))).first()
    if existing is not None and existing.withdrawn_at is None:
        raise DomainError("voice.already_signed")  # the caller's rollback undoes the count as well
    signature = existing or Signature(petition_id=petition.id or 0, person_id=person.id or 0)
    signature.resident, signature.representative = resident, representative  # what the counts got
    signature.signed_at, signature.withdrawn_at = now, None
    session.add(signature)
    await session.flush()


async def _claim_threshold(session: AsyncSession, petition: Petition, now: datetime) -> bool:
    """Exactly one transaction moves an open petition that has reached a threshold to granted."""
    reached = (col(Petition.resident_count) >= col(Petition.residents_needed)) | (
        (col(Petition.representatives_needed) > 0)
        & (col(Petition.representative_count) >= col(Petition.representatives_needed)))
    claimed = await session.exec(
        update(Petition).where(col(Petition.id) == petition.id, col(Petition.state) == "open", reached)
        .values(state="granted", granted_at=now))
    if claimed.rowcount != 1:
        return False
    await session.refresh(petition)
    return True


async def withdraw(session: AsyncSession, policy: Policy, person: Person, petition_id: int,
                   now: datetime, limit: int) -> Petition:
    """A signature may be withdrawn while the petition is open (until the threshold is reached). It takes back
    what it added when it was made, even if the person's roles have changed since."""
    petition = await get(session, petition_id)
    signature = (await session.exec(select(Signature).where(
        Signature.petition_id == petition.id, Signature.person_id == person.id,
        col(Signature.withdrawn_at).is_(None)))).first()
    if signature is None:
        raise DomainError("voice.not_signed")
    await voice_limits.take(session, person.id or 0, signing_quota(now, limit))
    moved = await session.exec(
        update(Petition).where(col(Petition.id) == petition.id, col(Petition.state) == "open")
        .values(resident_count=Petition.resident_count - int(signature.resident),
                representative_count=Petition.representative_count - int(signature.representative)))
    if moved.rowcount != 1:
        await session.refresh(petition)
        _require_open(petition, now)
        raise DomainError("voice.petition_expired")
    claimed = await session.exec(
        update(Signature).where(col(Signature.id) == signature.id, col(Signature.withdrawn_at).is_(None))
        .values(withdrawn_at=now))
    if claimed.rowcount != 1:
        raise DomainError("voice.not_signed")
    await session.refresh(petition)
    await refresh_posts(session, policy, petition, now)
    return petition


async def has_signed(session: AsyncSession, person: Person, petition_id: int) -> bool:
    found = await session.exec(select(Signature.id).where(
        Signature.petition_id == petition_id, Signature.person_id == person.id, col(Signature.withdrawn_at).is_(None)))
    return found.first() is not None


# --- the threshold and after -------------------------------------------------------------------------------

async def _granted(session: AsyncSession, policy: Policy, petition: Petition, now: datetime) -> None:
    village = await directory.village_by_id(session, petition.village_id)
    today = policy.today(village, now)
    obligation = Obligation(village_id=petition.village_id, source="petition", source_id=petition.id,
                            rule="immediate", item_id=petition.item_id, title=petition.title[:200], event_date=today,
                            due=event_due_date(policy.profile_for(village), "immediate", today), created_at=now)
    session.add(obligation)
    await session.flush()
    petition.obligation_id = obligation.id
    session.add(petition)
    view = {**petition_view(petition, policy.item(petition.item_id)), "due": obligation.due.isoformat()}
    told: set[int] = set()
    await official_keys(session, petition.village_id)  # the gate passes them (outbox.OFFICIAL_KEYS)
    for role in TOLD_ON_GRANT:
        for person in await directory.people_with_role(session, petition.village_id, role):
            if person.id not in told:
                told.add(person.id or 0)
                queue_to_person(session, person, "petition_granted_staff", view, village_id=petition.village_id)
    for signer in await signers(session, petition.id or 0):
        queue_to_person(session, signer, "petition_granted", view, village_id=petition.village_id)
    await refresh_posts(session, policy, petition, now)


async def signers(session: AsyncSession, petition_id: int) -> list[Person]:
    rows = await session.exec(select(Person).join(Signature, col(Signature.person_id) == Person.id)
                              .where(Signature.petition_id == petition_id, col(Signature.withdrawn_at).is_(None))
                              .order_by(col(Signature.id)))
    return list(rows)


async def on_obligation_met(session: AsyncSession, event: Event) -> list[Event]:
    """Reaction (services.reactions): a notice meeting a petition's obligation was published; the signers
    are told, the petition closes."""
    assert isinstance(event, ObligationMet)
    if event.obligation.source != "petition":
        return []
    petition = (await session.exec(select(Petition).where(Petition.obligation_id == event.obligation.id))).first()
    if petition is None:
        return []
    claimed = await session.exec(
        update(Petition).where(col(Petition.id) == petition.id, col(Petition.state) == "granted")
        .values(state="closed", closed_at=event.at))
    if claimed.rowcount != 1:
        return []
    await session.refresh(petition)
    await official_keys(session, petition.village_id)  # the gate passes them (outbox.OFFICIAL_KEYS)
    for signer in await signers(session, petition.id or 0):
        queue_to_person(session, signer, "petition_met", petition_view(petition), village_id=petition.village_id)
    return []


async def expire_due(session: AsyncSession, policy: Policy, now: datetime) -> int:
    """Open petitions past their time expire; the outcome goes to the groups and to the petitioner."""
    rows = list(await session.exec(select(Petition).where(Petition.state == "open", col(Petition.expires_at) <= now)))
    expired = 0
    for petition in rows:
        claimed = await session.exec(
            update(Petition).where(col(Petition.id) == petition.id, col(Petition.state) == "open")
            .values(state="expired", closed_at=now))
        if claimed.rowcount != 1:
            continue
        expired += 1
        await session.refresh(petition)
        village = await directory.village_by_id(session, petition.village_id)
        view = petition_view(petition, policy.item(petition.item_id))
        await refresh_posts(session, policy, petition, now)
        await official_keys(session, petition.village_id)  # the gate passes them (outbox.OFFICIAL_KEYS)
        for chat in await directory.bound_chats(session, petition.village_id):
            queue(session, chat.chat_id, "petition_expired", view, lang=village.language,
                  village_id=petition.village_id)
        petitioner = await session.get(Person, petition.person_id)
        if petitioner is not None:
            queue_to_person(session, petitioner, "petition_expired", view, village_id=petition.village_id)
    return expired


# --- the live count in the groups ----------------------------------------------------------------------------

async def refresh_posts(session: AsyncSession, policy: Policy, petition: Petition, now: datetime) -> None:
    """Show the current count in every group post, throttled: a pending row for the post (its first send, or
    an edit not yet made) is updated in place; otherwise one edit is queued, not sooner than EDIT_INTERVAL
    after the previous one."""
    view = petition_view(petition, policy.item(petition.item_id))
    keyboard = _sign_keyboard(petition)
    posts = await session.exec(select(PetitionPost).where(PetitionPost.petition_id == petition.id))
    for post in list(posts):
        await _refresh_post(session, post, petition, view, keyboard, now)


async def _refresh_post(session: AsyncSession, post: PetitionPost, petition: Petition, view: dict[str, Any],
                        keyboard: dict[str, Any] | None, now: datetime) -> None:
    topic = POST_TOPIC.format(id=post.id)
    rows = list(await session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic)
                                   .order_by(col(OutboxMessage.id).desc())))
    post.shown_count = petition.resident_count
    session.add(post)
    pending = next((row for row in rows if row.status == "pending"), None)
    if pending is not None:
        updated = await session.exec(
            update(OutboxMessage).where(col(OutboxMessage.id) == pending.id, col(OutboxMessage.status) == "pending")
            .values(context=view, keyboard=keyboard))
        if updated.rowcount == 1:
            return
    message_id = post.message_id or next(
        (row.message_id for row in rows if row.action == "send" and row.status == "sent"), None)
    if message_id is None:
        return  # the post never arrived (failed or uncertain): nothing to edit
    post.message_id = message_id
    await official_keys(session, petition.village_id)  # the gate passes them (outbox.OFFICIAL_KEYS)
    last_done = max((row.done_at or now for row in rows if row.action == "edit"), default=None)
    in_flight = any(row.status == "sending" for row in rows)
    not_before = None
    if in_flight:
        not_before = now + EDIT_INTERVAL
    elif last_done is not None and last_done + EDIT_INTERVAL > now:
        not_before = last_done + EDIT_INTERVAL
    row = queue(session, post.chat_id, "petition_post", view, action="edit", target_message_id=message_id,
                topic=topic, village_id=petition.village_id, keyboard=keyboard,
                lang=(await directory.village_by_id(session, petition.village_id)).language)
    row.not_before = not_before
