"""The one outer middleware: a database session per update, the acting person, their language,
domain errors answered in that language, and every other error logged with its update id."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import Message, TelegramObject, Update, User
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.fsm_redis import flush_after_commit
from bot.fsm_storage import current_session
from bot.runtime import Runtime
from bot.texts import UI, normalise_language
from models import Person, ProcessedUpdate
from services.directory import get_or_create_person
from services.errors import DomainError

log = logging.getLogger("cunwu.updates")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
ANONYMOUS_ADMIN_ID = 1087968824  # Telegram's GroupAnonymousBot: the sender of anonymous admins' messages


class UpdateContext(BaseMiddleware):
    """`confirm_after_handling` (webhook mode): an update whose handler failed is re-raised so the webhook
    answers non-2xx and Telegram sends it again, and each update id is recorded in the handler's own
    transaction so a second delivery has no second effect."""

    def __init__(self, runtime: Runtime, confirm_after_handling: bool = False) -> None:
        self.runtime = runtime
        self.confirm_after_handling = confirm_after_handling

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        user: User | None = data.get("event_from_user")
        async with self.runtime.sessions() as session:
            token = current_session.set(session)
            try:
                return await self._handle(handler, event, data, session, user)
            finally:
                current_session.reset(token)
                self.runtime.wake_delivery()

    async def _handle(
        self, handler: Handler, event: Update, data: dict[str, Any], session: AsyncSession, user: User | None
    ) -> Any:
        ui = self.runtime.texts.for_lang(normalise_language(user.language_code if user else None,
                                                           self.runtime.settings.default_language))
        data.update(session=session, runtime=self.runtime, ui=ui, person=None)
        metrics = self.runtime.metrics
        if self.confirm_after_handling and not await self._first_delivery(session, event.update_id):
            log.info("update %s was handled already", event.update_id)
            return None
        try:
            person = await self._person(session, user)
            if person is not None:
                data.update(person=person, ui=self.runtime.texts.for_lang(person.language or ui.lang))
            result = await handler(event, data)
            await session.commit()
            await flush_after_commit(data["fsm_storage"], session)  # Redis conversation state: after the commit
            metrics.updates.inc()
            return result
        except DomainError as error:
            await session.rollback()
            await answer_quietly(event, _error_text(data["ui"], error))
            await self._record_refusal(event.update_id)
            metrics.updates.inc()
        except Exception:
            await session.rollback()
            metrics.errors.inc()
            log.exception("update %s failed", event.update_id)
            await answer_quietly(event, data["ui"].t("err.internal"))
            if self.confirm_after_handling:
                raise
        return None

    async def _first_delivery(self, session: AsyncSession, update_id: int) -> bool:
        """Claims the update id in this update's transaction: a duplicate finds it (or waits for the first
        delivery's commit and then finds it) and is skipped; a rolled-back first delivery frees it."""
        session.add(ProcessedUpdate(update_id=update_id))
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            return False
        return True

    async def _record_refusal(self, update_id: int) -> None:
        """A refused action (domain error) is handled too: a redelivery must not answer it twice."""
        if not self.confirm_after_handling:
            return
        async with self.runtime.sessions() as session:
            session.add(ProcessedUpdate(update_id=update_id))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()

    async def _person(self, session: AsyncSession, user: User | None) -> Person | None:
        if user is None or user.is_bot or user.id == ANONYMOUS_ADMIN_ID:
            return None
        return await get_or_create_person(session, user.id, user.full_name, user.username)


async def answer_quietly(event: Update, text: str) -> None:
    """Tell the person something went wrong, without letting a second failure escape."""
    query, message = event.callback_query, event.message
    try:
        if query is not None:
            try:
                await query.answer(text, show_alert=True)
                return
            except TelegramBadRequest:  # the handler had answered the tap already: say it in the chat
                message = query.message if isinstance(query.message, Message) else None
        if message is not None:
            await message.answer(text, parse_mode=None)
    except Exception:
        log.exception("could not tell update %s about its error", event.update_id)


def _error_text(ui: UI, error: DomainError) -> str:
    # A parameter named `role` carries a role value; people see its name in their language.
    params = {k: ui.t(f"role.{v}") if k == "role" else v for k, v in error.params.items()}
    return ui.t(error.key, **params)
