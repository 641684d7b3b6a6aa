"""Queue what must be said to whom, in the caller's transaction (the transactional outbox).

The privacy gate lives here, because every message to a group, the filing group or another person's private
chat is an outbox row: `queue` screens every text of the row's context (services.privacy) and refuses a row
with a personal number the screen finds, unless the caller names it in `allowed` (a number a supervisor
allowed with a reason, or one shown to the person it is asked about). The gate screens every string except
those under MACHINE_KEYS, so a new message, or a new field of an old one, is screened without anyone
remembering to: a forgotten field fails loudly (the action is refused), it does not leak.
Upstream each path screens first and offers masking (a notice at submission and at the final approval, a
petition at submission, a reason or a reply when it is typed), so the gate refusing is the last line, not
the usual answer. docs/security.md lists the paths and their tests.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import lru_cache
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models import OutboxMessage, Person
from services import privacy
from services.errors import DomainError

# Keys whose values the bot made, not a person: Telegram file ids, the board's address key, ids, times; and a
# finance table as rendered (aligned columns of amounts), made by the bot from the notice's table_text, which the
# screen reads in its source form (services.notices.screening.screened_text) before submission and publication.
# The village's official numbers (services.people.official_numbers: its and its township's supervision and office
# lines, the notice's "supervision_phone" among them) pass by ONE mechanism: session.info[OFFICIAL_KEYS], {village
# id: the keys of its official numbers}, filled by services.people.official_numbers.keys (which every path that
# queues loads first) and read here by the row's village_id: the screen never flags them, in any format. A path that
# did not load them fails closed (the official number is refused like any other). `allowed` is for the rest: what
# a supervisor allowed, or a person's own numbers shown back to them.
OFFICIAL_KEYS = "cunwu.official_keys"

MACHINE_KEYS = frozenset({"file_id", "board", "chat_id", "township_id", "notice_id", "petition_id", "question_id",
                          "at", "published_on", "posting_until", "expires_on", "due", "day", "created_at", "table"})


@lru_cache(maxsize=256)
def _findings(text: str, official: frozenset[str] = frozenset()) -> tuple[privacy.Finding, ...]:
    """Cached: a notice's context is queued once per group, with the same texts."""
    return tuple(privacy.screen(text, official))


def _official(session: AsyncSession, village_id: int | None) -> frozenset[str]:
    loaded: dict[int, frozenset[str]] = session.info.get(OFFICIAL_KEYS, {})
    return loaded.get(village_id, frozenset()) if village_id is not None else frozenset()


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in MACHINE_KEYS:
                yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def open_findings(context: dict[str, Any] | None, allowed: Collection[str] = (),
                  official: frozenset[str] = frozenset()) -> list[privacy.Finding]:
    """The personal numbers in a context's texts that nobody allowed (a village's official numbers aside)."""
    return [f for text in _texts(context or {}) for f in _findings(text, official) if f.text not in allowed]


def check(context: dict[str, Any] | None, allowed: Collection[str] = (),
          official: frozenset[str] = frozenset()) -> None:
    """The gate: refuses (DomainError, so the update's transaction is rolled back) a context with an open finding."""
    found = open_findings(context, allowed, official)
    if found:
        raise DomainError("privacy_gate.blocked", masked=", ".join(sorted({f.masked for f in found})))


def masked(text: str, official: frozenset[str] = frozenset()) -> str:
    """The gate's rule for rows written in bulk (the nag digests, services.deadlines.nags), where refusing one
    row would hold up every other village's reminders: each personal number the screen finds is masked
    (the village's official numbers aside), so what a person typed leaves masked, never as written."""
    found = _findings(text, official)
    return privacy.mask_all(text, list(found)) if found else text


def require_clean(text: str, official: Collection[str] = ()) -> str:
    """For text typed to be shown to others (a reason, a reply): refused at once, with what was found, so the
    person can write it again; the gate would refuse it later anyway. `official`: the village's official
    numbers' keys, which pass."""
    found = list(_findings(text, frozenset(official)))
    if found:
        raise DomainError("privacy_gate.text_has_numbers", masked=", ".join(f.masked for f in found))
    return text


def queue(
    session: AsyncSession,
    chat_id: int,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    lang: str = "",
    keyboard: dict[str, Any] | None = None,
    topic: str | None = None,
    village_id: int | None = None,
    action: str = "send",
    target_message_id: int | None = None,
    posting_id: int | None = None,
    allowed: Collection[str] = (),
) -> OutboxMessage:
    """`lang` "" means the deployment's default language; `keyboard` names a builder in bot.ui.keyboards.common;
    `allowed` names the personal numbers this row may carry (see the module's docstring)."""
    check(context, allowed, _official(session, village_id))
    row = OutboxMessage(
        chat_id=chat_id, template=template, context=context or {}, lang=lang, keyboard=keyboard,
        topic=topic, village_id=village_id, action=action, target_message_id=target_message_id,
        posting_id=posting_id,
    )
    session.add(row)
    return row


def queue_to_person(
    session: AsyncSession, person: Person, template: str, context: dict[str, Any] | None = None, **kw: Any
) -> OutboxMessage:
    # In Telegram a private chat's id is the user's id.
    return queue(session, person.tg_user_id, template, context, lang=person.language or "", **kw)
