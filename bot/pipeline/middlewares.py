"""The one outer middleware: a database session per update, the acting person, their language,
domain errors answered in that language, and every other error logged with its update id.

What a person is told must stay true. Handlers answer before they return, so a transaction committed only
after the handler could be rolled back by a failure of the reply itself (a timeout on "you are now staff")
after the person was already told. Hence the rule, kept in ONE place for every handler: the update's
transaction is committed before the first request through which the bot tells anybody anything
(`CommitBeforeTelling`, a request middleware on bot.session, finds the update's `UpdateTransaction` in a
ContextVar). Requests that say nothing (get*, sendChatAction, a tap's silent answer) commit nothing. Writes
made after a reply are committed with the next reply or when the handler returns; an error rolls back only
what was not yet said.

A reply that fails once its update's changes are committed is not an "internal error": the action was
done. The person is told so in one line when Telegram may still reach them (not after 403), and the failure
is logged with the update id. A 429 on a reply is waited out and retried once, since Telegram did not
process it; a timeout is never retried, since the message may have arrived.

Webhook mode (`confirm_after_handling`): each update id is claimed in the update's own transaction, so a
redelivery of a handled update finds the claim and has no second effect. An update whose handler failed
before anything was committed is re-raised: the webhook answers non-2xx and Telegram sends it again, and
the rolled-back claim lets the second delivery run. Once something was committed (and so said), the claim
is committed with it: a redelivery would repeat what was already said, so the failure is logged and the
update is confirmed instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseStorage
from aiogram.methods import AnswerCallbackQuery, SendChatAction, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Message, TelegramObject, Update, User
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.pipeline.acting import acting
from bot.pipeline.fsm_redis import flush_after_commit
from bot.pipeline.fsm_storage import DatabaseStorage, already_read, current_session, record_key
from bot.process.runtime import Runtime
from bot.ui.texts import UI, normalise_language
from models import Person, ProcessedUpdate
from services.errors import DomainError

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("cunwu.updates")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
ANONYMOUS_ADMIN_ID = 1087968824  # Telegram's GroupAnonymousBot: the sender of anonymous admins' messages
REPLY_RETRY_LIMIT = 10  # seconds: a reply's 429 with a longer retry_after is not waited out in the update


@dataclass
class UpdateTransaction:
    """The transaction of the update being handled in the current task."""

    session: AsyncSession
    update_id: int
    storage: BaseStorage
    open: bool = True  # False once the handler is done: error answers commit nothing
    committed: bool = False  # something of this update was committed because it was about to be said

    async def commit(self) -> None:
        """The database, then the conversation state held back until now (Redis: bot/pipeline/fsm_redis.py)."""
        await self.session.commit()
        await flush_after_commit(self.storage, self.session)

    async def before_telling(self) -> None:
        if self.open:
            await self.commit()
            self.committed = True


_update: ContextVar[UpdateTransaction | None] = ContextVar("cunwu_update_transaction", default=None)


def _tells_someone(method: TelegramMethod[Any]) -> bool:
    if isinstance(method, SendChatAction) or type(method).__name__.startswith("Get"):
        return False
    return not (isinstance(method, AnswerCallbackQuery) and not method.text)


class CommitBeforeTelling(BaseRequestMiddleware):
    """Commit the current update's transaction before the bot tells anybody anything; outside an update
    (the delivery worker, start-up) requests pass through untouched."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        update = _update.get()
        if update is None or not update.open:
            return await make_request(bot, method)
        if _tells_someone(method):
            await update.before_telling()
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            if error.retry_after > REPLY_RETRY_LIMIT:
                raise
            log.warning("update %s: %s got 429, retrying in %s s", update.update_id, method.__api_method__,
                        error.retry_after)
            await asyncio.sleep(error.retry_after)
            return await make_request(bot, method)


class UpdateContext(BaseMiddleware):
    """A session and an `UpdateTransaction` per update; see the module docstring for when it commits."""

    def __init__(self, runtime: Runtime, storage: BaseStorage, confirm_after_handling: bool = False,
                 fsm: FSMContextMiddleware | None = None) -> None:
        """`fsm`: aiogram's FSM middleware, to name the conversation read with the person (bot/pipeline/acting.py)."""
        self.runtime, self.storage = runtime, storage
        self.confirm_after_handling = confirm_after_handling
        self.fsm = fsm if isinstance(storage, DatabaseStorage) else None

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        user: User | None = data.get("event_from_user")
        async with self.runtime.sessions() as session:
            update = UpdateTransaction(session, event.update_id, self.storage)
            session_token, update_token = current_session.set(session), _update.set(update)
            try:
                return await self._handle(handler, event, data, update, user)
            finally:
                update.open = False
                _update.reset(update_token)
                current_session.reset(session_token)
                self.runtime.wake_delivery()

    async def _handle(
        self, handler: Handler, event: Update, data: dict[str, Any], update: UpdateTransaction, user: User | None
    ) -> Any:
        session = update.session
        ui = self.runtime.texts.for_lang(normalise_language(user.language_code if user else None,
                                                           self.runtime.settings.default_language))
        data.update(session=session, runtime=self.runtime, ui=ui, person=None)
        metrics = self.runtime.metrics
        if self.confirm_after_handling and not await self._first_delivery(session, event.update_id):
            log.info("update %s was handled already", event.update_id)
            return None
        try:
            person = await self._person(session, user, data)
            if person is not None:
                data.update(person=person, ui=self.runtime.texts.for_lang(person.language or ui.lang))
            result = await handler(event, data)
            update.open = False
            await update.commit()
            metrics.updates.inc()
            return result
        except DomainError as error:
            update.open = False
            await session.rollback()
            await answer_quietly(event, _error_text(data["ui"], error))
            await self._record_refusal(event.update_id)
            metrics.updates.inc()
        except Exception as error:
            update.open = False
            await session.rollback()
            metrics.errors.inc()
            if update.committed:
                await _failed_after_telling(event, data["ui"], error)
                return None
            log.exception("update %s failed", event.update_id)
            await answer_quietly(event, data["ui"].plain("err.internal"))
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

    async def _person(self, session: AsyncSession, user: User | None, data: dict[str, Any]) -> Person | None:
        """The person, their roles and (database storage) the conversation, in one statement."""
        if user is None or user.is_bot or user.id == ANONYMOUS_ADMIN_ID:
            return None
        context = self.fsm.resolve_event_context(data["bot"], data) if self.fsm is not None else None
        key = record_key(context.key) if context is not None else None
        found = await acting(session, user.id, user.full_name, user.username, key)
        if key is not None:
            already_read(session, key, found.conversation)
        return found.person


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


async def _failed_after_telling(event: Update, ui: UI, error: Exception) -> None:
    """The update's changes were committed before the failure (they were being told): the action was done,
    so the person hears that, not "something went wrong, try again"."""
    if isinstance(error, (TelegramNetworkError, TelegramRetryAfter, TelegramForbiddenError)):  # not a bug
        log.warning("update %s: its changes were committed but a reply failed: %s", event.update_id, error)
    else:
        log.exception("update %s failed after its changes were committed", event.update_id)
    if isinstance(error, TelegramForbiddenError):  # blocked or removed: nothing can reach them
        return
    await answer_quietly(event, ui.plain("err.reply_lost" if isinstance(error, TelegramAPIError) else "err.internal"))


def _error_text(ui: UI, error: DomainError) -> str:
    """Plain text: error answers go out as alerts or with parse_mode=None."""
    # A parameter named `role` carries a role value; people see its name in their language.
    params = {k: ui.plain(f"role.{v}") if k == "role" else v for k, v in error.params.items()}
    if "roles" in params:  # a list of role values, named and joined in the person's language
        params["roles"] = ("、" if ui.lang == "zh" else ", ").join(ui.plain(f"role.{v}") for v in params["roles"])
    return ui.plain(error.key, **params)
