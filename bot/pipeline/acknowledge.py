"""A tap's acknowledgement that Telegram no longer accepts must not undo the tap.

Telegram refuses answerCallbackQuery for a query that was already answered or is too old. That happens
when a webhook update is delivered again after its first attempt had answered the tap and then failed
(the resend could then never succeed), and when a slow handler answers late. A plain acknowledgement or
toast is cosmetic, so its refusal is logged and the handler goes on. An alert (show_alert) still raises:
it carries something the person must read, and bot.pipeline.middlewares.answer_quietly then says it in the chat.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, TelegramMethod

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger("cunwu.updates")


class ToleratedAcknowledgements(BaseRequestMiddleware):
    async def __call__(self, make_request: NextRequestMiddlewareType[Any], bot: Bot,
                       method: TelegramMethod[Any]) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if not isinstance(method, AnswerCallbackQuery) or method.show_alert:
                raise
            log.info("tap %s not acknowledged: %s", method.callback_query_id, error.message)
            return True
