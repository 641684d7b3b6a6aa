"""Queue what must be said to whom, in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models import OutboxMessage, Person


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
) -> OutboxMessage:
    """`lang` "" means the deployment's default language; `keyboard` names a builder in bot.ui.keyboards.common."""
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
