"""The Dispatcher, built in ONE function that production, tests, the demo and benchmarks all call."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage

from bot.base.response_types import KeepResponseTypes
from bot.pipeline.acknowledge import ToleratedAcknowledgements
from bot.pipeline.fsm_storage import DatabaseStorage
from bot.pipeline.isolation import ChatLocks, UpdateIsolation
from bot.pipeline.middlewares import CommitBeforeTelling, UpdateContext
from bot.pipeline.quiet import QuietGroups
from bot.pipeline.selection import SelectingDispatcher
from bot.process.runtime import Runtime
from handlers import get_routers


def build_storage(runtime: Runtime) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis when REDIS_URL is set (several instances); otherwise the database, so a single machine's
    conversations survive a restart."""
    if runtime.settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        from bot.pipeline.fsm_redis import CommitBoundRedisStorage

        storage = RedisStorage.from_url(runtime.settings.redis_url)
        return CommitBoundRedisStorage(storage), RedisEventIsolation(storage.redis)
    return DatabaseStorage(runtime.sessions), ChatLocks()


def build_dispatcher(runtime: Runtime, *, confirm_after_handling: bool = False) -> Dispatcher:
    """`confirm_after_handling` for webhook mode: see bot.pipeline.middlewares.UpdateContext.

    Outer middlewares, in this order (bot/pipeline/isolation.py says why): aiogram's errors and user context,
    group chatter no handler takes dropped (bot/pipeline/quiet.py), the conversation lock, the database session
    and person, then aiogram's FSM context inside that session. The Dispatcher offers each update only to the
    routers with a handler it could match (bot/pipeline/selection.py).
    """
    storage, isolation = build_storage(runtime)
    dispatcher = SelectingDispatcher(storage=storage, disable_fsm=True, runtime=runtime)
    dispatcher.update.outer_middleware(QuietGroups())
    dispatcher.update.outer_middleware(UpdateIsolation(dispatcher.fsm, isolation))
    dispatcher.update.outer_middleware(UpdateContext(runtime, storage, confirm_after_handling,
                                                                dispatcher.fsm))
    dispatcher.update.outer_middleware(dispatcher.fsm)  # its own isolation is disabled: the lock is held
    dispatcher.shutdown.register(isolation.close)
    dispatcher.include_routers(*get_routers())
    return dispatcher


def build_bot(runtime: Runtime, session: BaseSession | None = None) -> Bot:
    """`session` is injected by tests (the in-process fake); otherwise aiohttp to TELEGRAM_API_URL."""
    if session is None:
        api = TelegramAPIServer.from_base(runtime.settings.telegram_api_url)
        session = AiohttpSession(api=api)
    session.middleware(KeepResponseTypes())  # parse answers without rebuilding pydantic types (bot.base.response_types)
    session.middleware(ToleratedAcknowledgements())  # a refused tap acknowledgement must not undo the tap
    session.middleware(CommitBeforeTelling())  # what the bot tells is committed first (bot.pipeline.middlewares)
    return Bot(runtime.settings.require_token(), session=session,
               default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True))
