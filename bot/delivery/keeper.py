"""Keeps published notices up for the profile's posting period: a notice deleted early is posted again,
one unpinned early is pinned again. Telegram tells bots of neither, so the keeper looks.

Existence: editing a message's reply markup to what it already is answers "message is not modified"
when the message exists and "message to edit not found" when it was deleted: a probe with no visible
effect. Pins: getChat returns the most recent pin only, so a notice counts as unpinned when nothing, or
something older than it, is pinned there; a newer pin hides it and it is left alone.

Every probe takes its turn from the same limiters as the delivery worker (runtime.limiters), so an hourly
check of many groups never pushes a broadcast into Telegram's 429.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.delivery import render as outbox_render
from bot.delivery.limits import ChatLimiters
from bot.process.runtime import Runtime
from services.notices import publication

log = logging.getLogger("cunwu.keeper")


async def keep_postings(runtime: Runtime, bot: Bot) -> dict[str, int]:
    limiters = runtime.limiters
    counts = {"checked": 0, "reposted": 0, "repinned": 0}
    async with runtime.sessions() as session:
        live = await publication.postings_in_period(session, runtime.policy, runtime.clock.now())
        for posting, original in live:
            counts["checked"] += 1
            first = posting.message_ids[0] if posting.message_ids else None
            if first is None:
                continue
            ui = runtime.texts.for_lang(original.lang or None)
            markup = outbox_render.markup(ui, original.keyboard, runtime)
            if not await _exists(bot, limiters, posting.chat_id, first, markup):
                await publication.post_again(session, posting, original)
                counts["reposted"] += 1
            elif posting.pinned and not await _still_pinned(bot, limiters, posting.chat_id, first):
                await publication.pin_again(session, posting, original)
                counts["repinned"] += 1
        await session.commit()
    runtime.wake_delivery()
    return counts


async def _exists(bot: Bot, limiters: ChatLimiters, chat_id: int, message_id: int, markup: object) -> bool:
    await limiters.acquire(chat_id)
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=markup)  # type: ignore[arg-type]
    except TelegramBadRequest as error:
        return "not found" not in error.message
    except TelegramAPIError as error:  # 403, 429, network: not evidence of deletion
        log.info("could not probe %s in %s: %s", message_id, chat_id, error)
    return True


async def _still_pinned(bot: Bot, limiters: ChatLimiters, chat_id: int, message_id: int) -> bool:
    await limiters.overall.acquire()  # a read, not a message in the chat: the bot's overall rate only
    try:
        chat = await bot.get_chat(chat_id)
    except TelegramAPIError:
        return True
    pinned = chat.pinned_message
    return pinned is not None and pinned.message_id >= message_id
