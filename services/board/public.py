"""What anyone may read on a village's board: published notices as they were frozen at publication, screened
again on the way out, with their history; never a draft, a Telegram id, a question or a petition's private data.

A notice's versions form a chain (a correction names the notice it corrects). A version replaced by its
correction is still shown, marked and linked to its successor; if the chain ends in a retraction, every
version shows only the retraction (date and reason), never the content: it was retracted because something
in it must not be shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, exists, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Period
from models import Attachment, AuditEntry, Consultation, Notice, Person, PostingProof, ReviewDecision, Township, Village
from services import privacy
from services.board import official
from services.board.visibility import Board, BoardNotFound, board_of, boards_of
from services.errors import DomainError
from services.notices import finance_table
from services.notices.archive import parse_quarter, quarter_bounds
from services.notices.workflow import Action, State
from services.people import official_numbers
from services.policy import Policy
from services.procedures import consultations
from services.procedures.matters import published_path

LISTED = (State.PUBLISHED, State.RETRACTED)  # the versions a board lists: the newest of each chain
SHOWN = (State.PUBLISHED, State.CORRECTED, State.RETRACTED)  # every version that was ever published
RECENT_QUARTERS = 4  # quarters a village board shows in full; older ones are a link each


# --- screening on the way out ---------------------------------------------------------------------------

@lru_cache(maxsize=50_000)
def _masked(text: str, allowed: frozenset[str], official: frozenset[str] = frozenset()) -> str:
    findings = [f for f in privacy.screen(text, official) if f.text not in allowed]
    return privacy.mask_all(text, findings) if findings else text


def public_text(text: str | None, overrides: list[dict[str, Any]] | None = None,
                official: frozenset[str] = frozenset()) -> str:
    """Published text was screened before publication; it is screened again here, so a number the screen
    learned to see since then is masked too. What the supervisory committee allowed (with a reason) stays,
    and so do the village's official numbers (`official`: services.people.official_numbers.keys)."""
    if not text:
        return ""
    masked = _masked(text, frozenset(), official)
    if masked == text or not overrides:  # nothing found (nearly always), or nothing allowed
        return masked
    return _masked(text, frozenset(str(entry.get("text", "")) for entry in overrides), official)


# --- what the templates receive ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Names:
    zh: str
    en: str


@dataclass(frozen=True)
class NoticeLine:
    id: int
    title: str
    state: str
    published_on: date
    quarter: str
    klass: Names | None
    klass_order: tuple[str, int]
    item: Names | None
    period: str | None
    corrected: bool  # this version corrects an earlier one
    posted: bool  # a posting proof exists (已张贴)
    current: bool  # within its posting period today


@dataclass(frozen=True)
class ClassGroup:
    klass: Names | None  # None: notices published outside the catalog (临时公开)
    notices: list[NoticeLine]


@dataclass(frozen=True)
class QuarterGroup:
    quarter: str
    count: int
    classes: list[ClassGroup]


@dataclass(frozen=True)
class VillageBoard:
    board: Board
    today: date
    current: list[NoticeLine]
    quarters: list[QuarterGroup]  # the recent ones, newest first, in full
    older: list[tuple[str, int]]  # (quarter, count), newest first
    phone: str | None
    consultations: list[dict[str, Any]] = field(default_factory=list)  # completed ones, newest first


@dataclass(frozen=True)
class Reviewer:
    role: str
    name: str
    at: datetime


@dataclass(frozen=True)
class Proof:
    id: int
    at: datetime
    by: str


@dataclass(frozen=True)
class FileLine:
    id: int
    kind: str  # photo | document
    name: str


@dataclass(frozen=True)
class Version:
    id: int
    title: str
    published_at: datetime
    state: str


@dataclass(frozen=True)
class Retraction:
    at: datetime | None
    reason: str


@dataclass(frozen=True)
class Table:
    rows: list[tuple[str, ...]]  # (item, amount), or for a statement (item, opening, income, spending, closing)
    total: str | tuple[str, ...]
    statement: bool = False


@dataclass
class NoticePage:
    board: Board
    id: int
    state: str
    title: str
    unit: str
    klass: Names | None
    item: Names | None
    period: str | None
    published_at: datetime
    posting_until: date | None
    current: bool
    phone: str | None
    changed_at: datetime
    history: list[Version]
    successor: Version | None = None
    retraction: Retraction | None = None
    nothing_to_disclose: bool = False
    body: str = ""
    table: Table | None = None
    files: list[FileLine] = field(default_factory=list)
    reviewers: list[Reviewer] = field(default_factory=list)
    author: str = ""
    proofs: list[Proof] = field(default_factory=list)
    path: list[dict[str, Any]] | None = None  # the matter's 四议两公开 when the notice discloses one


# --- catalog words ---------------------------------------------------------------------------------------

def _names(names: Any) -> Names:
    return Names(getattr(names, "zh_simplified", None) or names.zh, names.en)


AD_HOC: tuple[Names | None, tuple[str, int], Names | None] = (None, ("~", 0), None)  # after the classes


def _classify(policy: Policy, item_id: str | None) -> tuple[Names | None, tuple[str, int], Names | None]:
    """(class, its order, item) of an item id such as "jyv:cw.1": the class is the code before the dot,
    so only that class's items are looked through (Registry.item reads every item of the catalog)."""
    catalog_code, _, code = (item_id or "").partition(":")
    class_code, _, number = code.partition(".")
    catalog = policy.registry.catalogs.get(catalog_code)
    klass = catalog.klass(class_code) if catalog is not None else None
    item = next((i for i in klass.items if str(i.number) == number), None) if klass is not None else None
    if klass is None or item is None:
        found = policy.item(item_id)  # a catalog laid out otherwise: the slow way
        return (None, ("~", 0), _names(found)) if found is not None else AD_HOC
    return _names(klass.names), (catalog_code, klass.number), _names(item)


# --- a village's board ----------------------------------------------------------------------------------

async def village_changed_at(session: AsyncSession, board: Board) -> tuple[datetime, str]:
    """When anything the village's pages show last changed (a notice, a posting proof, the board setting),
    and a short token of how much there is: two changes within one clock tick still change the token.
    One query: it runs before every page of the village (a 304 needs nothing else)."""
    shown = and_(col(Notice.village_id) == board.village.id, col(Notice.state).in_(SHOWN))
    of_village = col(Notice.village_id) == board.village.id

    def proofs(value: Any) -> Any:
        return select(value).join(Notice, col(Notice.id) == PostingProof.notice_id).where(of_village).scalar_subquery()

    consulted = (select(func.count()).select_from(Consultation)  # completed consultations (their own section)
                 .where(col(Consultation.village_id) == board.village.id, col(Consultation.adopted).is_not(None)))
    notices, count, proved, posted, completed = (await session.exec(select(  # type: ignore[call-overload]
        select(func.max(Notice.updated_at)).where(shown).scalar_subquery(),
        select(func.count()).select_from(Notice).where(shown).scalar_subquery(),
        proofs(func.max(PostingProof.at)), proofs(func.count(col(PostingProof.id))),
        consulted.scalar_subquery()))).one()
    stamps = [s for s in (notices, proved, board.changed_at, board.village.created_at) if s is not None]
    return max(_aware(s) for s in stamps), f"{count}.{posted}.{completed}"


def _aware(stamp: datetime) -> datetime:
    """SQL aggregates skip the column type: SQLite hands back naive UTC."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


LINE_COLUMNS = [col(c) for c in (Notice.id, Notice.title, Notice.state, Notice.published_at, Notice.posting_until,
                                  Notice.item_id, Notice.period, Notice.corrects_id, Notice.privacy_overrides)]


async def _lines(session: AsyncSession, policy: Policy, village: Village, today: date,
                 *extra: Any) -> list[NoticeLine]:
    # Columns, not ORM objects, and whether a posting proof exists, in one query: a board lists hundreds of
    # notices (bench/board.py).
    posted = exists().where(col(PostingProof.notice_id) == col(Notice.id))
    rows: list[Any] = list(await session.exec(
        select(*LINE_COLUMNS, posted)  # type: ignore[call-overload]
        .where(col(Notice.village_id) == village.id, col(Notice.state).in_(LISTED),
               col(Notice.published_at).is_not(None), *extra)
        .order_by(col(Notice.published_at).desc(), col(Notice.id).desc())))
    tz = policy.tz(village)
    classified: dict[str | None, tuple[Names | None, tuple[str, int], Names | None]] = {}  # a few dozen items
    lines = []
    for notice_id, title, state, published_at, until, item_id, period, corrects, overrides, proof in rows:
        day = published_at.astimezone(tz).date()
        if item_id not in classified:
            classified[item_id] = _classify(policy, item_id)
        klass, order, item = classified[item_id]
        lines.append(NoticeLine(
            notice_id, public_text(title, overrides), state, day, f"{day.year}Q{(day.month - 1) // 3 + 1}",
            klass, order, item, period, corrects is not None, bool(proof),
            state == State.PUBLISHED and until is not None and today < until))
    return lines


def _by_class(lines: list[NoticeLine]) -> list[ClassGroup]:
    groups: dict[tuple[str, int], list[NoticeLine]] = {}
    for line in lines:
        groups.setdefault(line.klass_order, []).append(line)
    return [ClassGroup(notices[0].klass, notices) for _, notices in sorted(groups.items())]


async def village_board(session: AsyncSession, policy: Policy, board: Board, now: datetime) -> VillageBoard:
    today = policy.today(board.village, now)
    lines = await _lines(session, policy, board.village, today)
    quarters: dict[str, list[NoticeLine]] = {}
    for line in lines:
        quarters.setdefault(line.quarter, []).append(line)
    ordered = sorted(quarters.items(), reverse=True)
    recent = [QuarterGroup(q, len(ls), _by_class(ls)) for q, ls in ordered[:RECENT_QUARTERS]]
    return VillageBoard(board, today, [line for line in lines if line.current], recent,
                        [(q, len(ls)) for q, ls in ordered[RECENT_QUARTERS:]],
                        await official.supervision_phone(session, board.village),
                        await consultations.disclosed(session, board.village.id or 0))


async def quarter_lines(session: AsyncSession, policy: Policy, board: Board, quarter: str,
                        now: datetime) -> list[ClassGroup]:
    """One quarter's notices (by the village's calendar) by class; a malformed quarter is no page."""
    try:
        parse_quarter(quarter)
    except DomainError as error:
        raise BoardNotFound() from error
    start, end = quarter_bounds(policy, board.village, quarter)
    lines = await _lines(session, policy, board.village, policy.today(board.village, now),
                         col(Notice.published_at) >= start, col(Notice.published_at) < end)
    return _by_class(list(reversed(lines)))


# --- a township ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VillageSummary:
    board: Board
    current: int  # notices within their posting period
    this_quarter: int
    posted: int  # of those, how many have a posting proof
    last_published: date | None


@dataclass(frozen=True)
class TownshipPage:
    township: Township
    quarter: str
    villages: list[VillageSummary]


async def townships(session: AsyncSession) -> list[tuple[Township, int]]:
    """Every township with the number of villages whose boards it lists."""
    result = []
    for township in await session.exec(select(Township).order_by(col(Township.code))):
        villages = list(await session.exec(select(Village).where(Village.township_id == township.id)))
        result.append((township, sum(b.listed for b in await boards_of(session, villages, township))))
    return result


SUMMARY_COLUMNS = [col(c) for c in (Notice.id, Notice.village_id, Notice.state, Notice.published_at,
                                     Notice.posting_until)]


async def township_page(session: AsyncSession, policy: Policy, code: str, now: datetime) -> TownshipPage:
    """Its listed villages with this quarter's counts: four queries however many villages there are."""
    township = (await session.exec(select(Township).where(Township.code == code))).first()
    if township is None:
        raise BoardNotFound()
    villages = list(await session.exec(select(Village).where(Village.township_id == township.id)
                                       .order_by(col(Village.code))))
    boards = [b for b in await boards_of(session, villages, township) if b.listed]
    quarter = str(Period.containing("quarterly", policy.today(villages[0] if villages else None, now)))
    starts = {b.village.id: quarter_bounds(policy, b.village, quarter)[0] for b in boards}
    ids = list(starts)
    listed = (col(Notice.village_id).in_(ids), col(Notice.state).in_(LISTED), col(Notice.published_at).is_not(None))
    earliest = min(starts.values(), default=now)
    fresh = or_(col(Notice.published_at) >= earliest, col(Notice.posting_until) > earliest.date())
    recent: list[Any] = list(await session.exec(select(*SUMMARY_COLUMNS).where(*listed, fresh)))
    last: dict[Any, Any] = dict(list(await session.exec(
        select(Notice.village_id, func.max(Notice.published_at)).where(*listed).group_by(col(Notice.village_id)))))
    posted = set(await session.exec(select(PostingProof.notice_id).distinct().where(
        col(PostingProof.notice_id).in_([row[0] for row in recent])))) if recent else set()
    summaries = []
    for board in boards:
        village_id, today = board.village.id, policy.today(board.village, now)
        mine = [r for r in recent if r[1] == village_id]
        quarter_ids = {r[0] for r in mine if _aware(r[3]) >= starts[village_id]}
        current = sum(1 for r in mine if r[2] == State.PUBLISHED and r[4] is not None and today < r[4])
        latest = policy.local(board.village, _aware(last[village_id])).date() if last.get(village_id) else None
        summaries.append(VillageSummary(board, current, len(quarter_ids), len(quarter_ids & posted), latest))
    return TownshipPage(township, quarter, summaries)


# --- one notice -----------------------------------------------------------------------------------------

async def notice_page(session: AsyncSession, policy: Policy, board: Board, notice_id: int,
                      now: datetime) -> NoticePage:
    notice = await session.get(Notice, notice_id)
    if (notice is None or notice.village_id != board.village.id or notice.state not in SHOWN
            or notice.published_at is None):
        raise BoardNotFound()
    chain = await _chain(session, notice)
    village = board.village
    klass, _, item = _classify(policy, notice.item_id)
    page = NoticePage(
        board=board, id=notice.id or 0, state=notice.state, title=public_text(notice.title, notice.privacy_overrides),
        unit=policy.issuing_unit(village), klass=klass, item=item, period=notice.period,
        published_at=policy.local(village, notice.published_at), posting_until=notice.posting_until,
        current=notice.state == State.PUBLISHED and notice.posting_until is not None
        and policy.today(village, now) < notice.posting_until,
        phone=await official.supervision_phone(session, village),
        changed_at=max(_aware(n.updated_at) for n in chain),
        history=[Version(n.id or 0, public_text(n.title, n.privacy_overrides),
                         policy.local(village, n.published_at or n.updated_at), n.state) for n in chain])
    position = [n.id for n in chain].index(notice.id)
    page.successor = page.history[position + 1] if position + 1 < len(chain) else None
    if chain[-1].state == State.RETRACTED:
        page.retraction = await _retraction(session, policy, village, chain[-1])
        return page
    await _content(session, policy, page, notice)
    return page


async def _chain(session: AsyncSession, notice: Notice) -> list[Notice]:
    """Every published version of the notice, oldest first."""
    chain = [notice]
    while chain[0].corrects_id is not None:
        earlier = await session.get(Notice, chain[0].corrects_id)
        if earlier is None or earlier.state not in SHOWN:
            break
        chain.insert(0, earlier)
    while True:
        later = (await session.exec(select(Notice).where(
            Notice.corrects_id == chain[-1].id, col(Notice.state).in_(SHOWN)))).first()
        if later is None:
            return chain
        chain.append(later)


async def _retraction(session: AsyncSession, policy: Policy, village: Village, notice: Notice) -> Retraction:
    entry = (await session.exec(select(AuditEntry).where(
        AuditEntry.notice_id == notice.id, AuditEntry.action == Action.RETRACT.value))).first()
    reason = public_text(entry.reason if entry else "")
    return Retraction(policy.local(village, entry.at) if entry else None, reason)


async def _content(session: AsyncSession, policy: Policy, page: NoticePage, notice: Notice) -> None:
    village, overrides = page.board.village, notice.privacy_overrides
    official_keys = await official_numbers.keys(session, village.id or 0)
    page.nothing_to_disclose = notice.nothing_to_disclose
    page.body = public_text(notice.body, overrides, official_keys)
    page.table = _table(notice.table_text, overrides, policy.label(village.language, "table.total"), official_keys)
    files = await session.exec(select(Attachment).where(Attachment.notice_id == notice.id)
                               .order_by(col(Attachment.id)))
    page.files = [FileLine(a.id or 0, a.kind, public_text(a.file_name, overrides, official_keys)) for a in files]
    page.reviewers = await _reviewers(session, policy, village, notice)
    author = await session.get(Person, notice.author_id)
    page.author = await official.display_name(session, author) if author else ""
    page.proofs = await proofs_of(session, policy, village, notice.id or 0)
    page.path = await published_path(session, policy, notice)


def _table(text: str | None, overrides: list[dict[str, Any]], total_label: str,
           official: frozenset[str]) -> Table | None:
    if not text:
        return None
    try:
        parsed = finance_table.parse_table(text)
    except finance_table.TableError:  # a table is checked when it is entered; an older format is shown as text
        return Table([(public_text(line, overrides, official), "") for line in text.splitlines() if line.strip()],
                     "")
    if parsed.statement:
        rows = [(public_text(row.item, overrides, official), *(f"{a:,.2f}" for a in row.amounts))
                for row in parsed.statement]
        return Table(rows, tuple(f"{a:,.2f}" for a in parsed.totals), statement=True)
    return Table([(public_text(row.item, overrides, official), f"{row.amount:,.2f}") for row in parsed.rows],
                 f"{parsed.total:,.2f}")


async def _reviewers(session: AsyncSession, policy: Policy, village: Village, notice: Notice) -> list[Reviewer]:
    rows = await session.exec(
        select(ReviewDecision, Person).join(Person, col(Person.id) == ReviewDecision.person_id)
        .where(ReviewDecision.notice_id == notice.id, ReviewDecision.version == notice.version,
               ReviewDecision.decision == "approve").order_by(col(ReviewDecision.stage)))
    return [Reviewer(d.role, await official.display_name(session, p), policy.local(village, d.decided_at))
            for d, p in rows]


async def proofs_of(session: AsyncSession, policy: Policy, village: Village, notice_id: int) -> list[Proof]:
    rows = await session.exec(select(PostingProof, Person).join(Person, col(Person.id) == PostingProof.person_id)
                              .where(PostingProof.notice_id == notice_id).order_by(col(PostingProof.id)))
    return [Proof(p.id or 0, policy.local(village, p.at), await official.display_name(session, person))
            for p, person in rows]


async def notice_board(session: AsyncSession, notice_id: int) -> Board:
    """The board a published notice hangs on (for an operator's `cunwu admin poster`)."""
    notice = await session.get(Notice, notice_id)
    village = await session.get(Village, notice.village_id) if notice is not None else None
    if notice is None or village is None or notice.state not in SHOWN:
        raise BoardNotFound()
    return await board_of(session, village)


# --- files ------------------------------------------------------------------------------------------------

async def public_file(session: AsyncSession, policy: Policy, board: Board, notice_id: int, kind: str,
                      file_ref: int, now: datetime) -> tuple[str, str]:
    """(Telegram file id, file name) of an attachment or posting-proof photo of a notice the public may read
    in full (not one whose chain ends in a retraction)."""
    page = await notice_page(session, policy, board, notice_id, now)
    if page.retraction is not None:
        raise BoardNotFound()
    if kind == "f" and any(f.id == file_ref for f in page.files):
        attachment = await session.get(Attachment, file_ref)
        if attachment is not None:
            return attachment.file_id, attachment.file_name or f"{file_ref}.jpg"
    if kind == "p" and any(p.id == file_ref for p in page.proofs):
        proof = await session.get(PostingProof, file_ref)
        if proof is not None:
            return proof.file_id, f"proof-{file_ref}.jpg"
    raise BoardNotFound()
