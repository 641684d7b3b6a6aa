"""The delivery worker: outbox rows -> Telegram, within Telegram's limits, never sending a row twice.

A row is marked `sending` (committed) before its request and `sent` with the message id after. A row
still `sending` when a worker starts was in flight when the previous process died: nobody knows whether
Telegram got it (sendMessage has no idempotency key), so it becomes `uncertain` instead of being resent.
At most DELIVERY_CONCURRENCY rows are in flight, which bounds the uncertain rows a crash can leave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup, Message
from aiolimiter import AsyncLimiter
from sqlalchemy import update
from sqlmodel import col, select

from bot import outbox_render
from bot.runtime import Runtime
from bot.splitting import split_html
from bot.texts import UI
from models import OutboxMessage, Posting
from services import notices, onboarding, publication

log = logging.getLogger("cunwu.delivery")
BATCH = 200


@dataclass(frozen=True)
class Limits:
    """Telegram's documented limits: ~30 messages/s per bot, 20/min per group, ~1/s per private chat."""

    per_second: float = 30
    group_per_minute: float = 20
    private_per_second: float = 1


class ChatLimiters:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # Evenly spaced, no burst: a burst of 30 spends Telegram's whole bucket at once, and then any
        # difference in latency between two requests (the first one opens the connection) is a 429.
        # At 30/s the 300-group broadcast takes 10 s either way.
        self.overall = AsyncLimiter(1, 1 / limits.per_second)
        self._chats: dict[int, AsyncLimiter] = {}

    def for_chat(self, chat_id: int) -> AsyncLimiter:
        if chat_id not in self._chats:
            group = chat_id < 0
            rate = self.limits.group_per_minute if group else self.limits.private_per_second
            self._chats[chat_id] = AsyncLimiter(rate, 60 if group else 1)
        return self._chats[chat_id]


class DeliveryWorker:
    def __init__(self, runtime: Runtime, bot: Bot, limits: Limits | None = None) -> None:
        self.runtime, self.bot = runtime, bot
        self.limiters = ChatLimiters(limits or Limits())
        self.slots = asyncio.Semaphore(max(1, runtime.settings.delivery_concurrency))
        self.retry_after_count = 0
        self.progress = ProgressReporter(runtime, bot)

    async def recover(self) -> int:
        """Rows left `sending` by a dead process become `uncertain`, and so do their postings."""
        async with self.runtime.sessions() as session:
            rows = list(await session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending")))
            for row in rows:
                row.status, row.error = "uncertain", "in flight when the worker stopped"
                row.done_at = self.runtime.clock.now()
                session.add(row)
                if row.posting_id is not None and row.action in ("post", "edit"):
                    await publication.posting_result(session, row.posting_id, "uncertain")
            await session.commit()
        return len(rows)

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self.recover()
        while not stop.is_set():
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("delivery round failed")
                worked = 0
            if not worked:
                await self._sleep(stop)

    async def _sleep(self, stop: asyncio.Event) -> None:
        signal = self.runtime.outbox_signal
        signal.clear()
        waiters = [asyncio.ensure_future(signal.wait()), asyncio.ensure_future(stop.wait())]
        await asyncio.wait(waiters, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    async def run_until_idle(self, max_rounds: int = 1000) -> None:
        """Deliver everything that is due now (tests and the demo)."""
        for _ in range(max_rounds):
            if not await self.run_once():
                return

    async def run_once(self) -> int:
        rows = await self._due_rows()
        by_chat: dict[int, list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        results = await asyncio.gather(*(self._deliver_chat(chat_rows) for chat_rows in by_chat.values()))
        return sum(results)

    async def _due_rows(self) -> list[OutboxMessage]:
        now = self.runtime.clock.now()
        async with self.runtime.sessions() as session:
            rows = await session.exec(
                select(OutboxMessage).where(OutboxMessage.status == "pending")
                .order_by(col(OutboxMessage.id)).limit(BATCH)
            )
            return list(_in_order_per_chat(rows, now))

    async def _deliver_chat(self, rows: list[OutboxMessage]) -> int:
        done = 0
        for row in rows:
            limiter = self.limiters.for_chat(row.chat_id)
            if not limiter.has_capacity():
                break  # this chat's own limit: leave the rest for a later round, others go on
            async with self.slots, self.limiters.overall, limiter:
                if not await self._deliver(row):
                    break
            done += 1
        return done

    async def _deliver(self, row: OutboxMessage) -> bool:
        """Returns False when the rest of this chat's rows must wait (rate limited or moved)."""
        if not await self._mark(row, "sending", expect="pending"):
            return False
        try:
            message_id = await self._perform(row)
        except TelegramRetryAfter as error:
            self.retry_after_count += 1
            self.runtime.metrics.retry_after.inc()
            await self._retry_later(row, error.retry_after)
            return False
        except TelegramMigrateToChat as error:
            await self._migrate(row, error.migrate_to_chat_id)
            return False
        except TelegramForbiddenError as error:
            await self._forbidden(row, error.message)
            await self._after(row, "failed")
            return True
        except TelegramBadRequest as error:
            await self._finish(row, "failed", error=error.message)
            log.warning("outbox %s to %s refused: %s", row.id, row.chat_id, error.message)
            await self._after(row, "failed")
            return True
        except TelegramNetworkError as error:
            uncertain = await self._network_error(row, str(error))
            if uncertain:
                await self._after(row, "uncertain")
            return False
        await self._finish(row, "sent", message_id=message_id)
        await self._after(row, "sent")
        return True

    async def _after(self, row: OutboxMessage, status: str) -> None:
        """Record a notice's posting that did not make it, and keep the author's progress message current."""
        if status == "sent" and row.topic and row.topic.startswith("progress:"):
            # The author's private chat is slower (1 message/s) than the groups: when the progress message
            # goes out after the postings finished, no later posting would ever bring it up to date.
            await self.progress.report("notice:" + row.topic.split(":", 1)[1])
            return
        if row.posting_id is None or row.action not in ("post", "edit"):
            return
        if status != "sent":
            await self._record_posting(row, status)
        await self.progress.report(row.topic)

    async def _perform(self, row: OutboxMessage) -> int | None:
        ui = self.runtime.texts.for_lang(row.lang or None)
        markup = outbox_render.markup(ui, row.keyboard, self.runtime)
        target = int(row.target_message_id or 0)
        if row.action == "post":
            return await self._post(row, ui, markup)
        if row.action == "send":
            sent: Message = await self.bot.send_message(row.chat_id, ui.render(row.template, **row.context),
                                                        reply_markup=markup)
            return sent.message_id
        if row.action == "edit":
            return await self._edit(row, ui, markup)
        if row.action == "photo":
            return await self._photo(row, ui)
        if row.action == "pin":
            await self.bot.pin_chat_message(row.chat_id, target, disable_notification=True)
        elif row.action == "unpin":
            await self.bot.unpin_chat_message(chat_id=row.chat_id, message_id=target)
            await self._record_posting(row, "posted", pinned=False)
        elif row.action == "delete":
            await self._delete(row.chat_id, target)
        return target or None

    async def _post(self, row: OutboxMessage, ui: UI, markup: InlineKeyboardMarkup | None) -> int:
        """A notice: its text in as many messages as it needs, buttons on the first, pinned, then attachments."""
        parts = split_html(ui.render(row.template, **row.context))
        ids: list[int] = []
        for index, part in enumerate(parts):
            if index:
                await self._acquire(row.chat_id)
            sent = await self.bot.send_message(row.chat_id, part, reply_markup=markup if index == 0 else None)
            ids.append(sent.message_id)
        ids += await self._send_attachments(row)
        pinned = await self._pin_first(row, ids[0])
        await self._record_posting(row, "posted", message_ids=ids, pinned=pinned, title=sent.chat.title)
        return ids[0]

    async def _send_attachments(self, row: OutboxMessage) -> list[int]:
        notice_id = row.context.get("notice_id")
        if not notice_id or row.context.get("corrected"):
            return []
        async with self.runtime.sessions() as session:
            files = await notices.attachments(session, int(notice_id))
        ids = []
        for attachment in files:
            await self._acquire(row.chat_id)
            if attachment.kind == "photo":
                sent = await self.bot.send_photo(row.chat_id, attachment.file_id)
            else:
                sent = await self.bot.send_document(row.chat_id, attachment.file_id)
            ids.append(sent.message_id)
        return ids

    async def _photo(self, row: OutboxMessage, ui: UI) -> int:
        """A township's compliance chart, drawn now (the row keeps only the township and quarter)."""
        from aiogram.types import BufferedInputFile

        from services.compliance import legend, township_chart

        async with self.runtime.sessions() as session:
            _, png = await township_chart(session, self.runtime.policy, int(row.context["township_id"]),
                                          str(row.context["quarter"]), self.runtime.clock.now(),
                                          legend(ui.texts.t, ui.lang))
        caption = ui.render(row.template, **row.context)
        sent = await self.bot.send_photo(row.chat_id, BufferedInputFile(png, "report.png"),
                                         caption=caption if len(caption) <= 1024 else None)
        return sent.message_id

    async def _pin_first(self, row: OutboxMessage, message_id: int) -> bool:
        if not (row.posting_id and await self._posting_wants_pin(row.posting_id)):
            return False
        try:
            await self.bot.pin_chat_message(row.chat_id, message_id, disable_notification=True)
        except TelegramBadRequest as error:  # no right to pin: the notice is still posted
            log.warning("could not pin in %s: %s", row.chat_id, error.message)
            return False
        return True

    async def _posting_wants_pin(self, posting_id: int) -> bool:
        async with self.runtime.sessions() as session:
            posting = await session.get(Posting, posting_id)
            return bool(posting and posting.pin)

    async def _edit(self, row: OutboxMessage, ui: UI, markup: InlineKeyboardMarkup | None) -> int | None:
        """A correction edits the posted messages in place; where that is impossible it is posted again."""
        text = ui.render(row.template, **row.context)
        if row.posting_id is None and row.target_message_id:
            # Not a notice (e.g. a petition's live count): edit that one message, nothing else.
            await self._edit_one(row.chat_id, int(row.target_message_id), text, markup)
            return int(row.target_message_id)
        old_ids = await self._posting_messages(row)
        parts = split_html(text)
        if row.posting_id is None or not old_ids or len(parts) != len(old_ids):
            return await self._repost(row, ui, markup, old_ids)
        try:
            for message_id, part in zip(old_ids, parts, strict=True):
                await self._edit_one(row.chat_id, message_id, part, markup if message_id == old_ids[0] else None)
        except TelegramBadRequest:
            return await self._repost(row, ui, markup, old_ids)
        await self._record_posting(row, "posted")
        return old_ids[0]

    async def _edit_one(self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        try:
            await self.bot.edit_message_text(text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                raise

    async def _repost(self, row: OutboxMessage, ui: UI, markup: InlineKeyboardMarkup | None,
                      old_ids: list[int]) -> int:
        for message_id in old_ids:
            await self._delete(row.chat_id, message_id)
        return await self._post(row, ui, markup)

    async def _delete(self, chat_id: int, message_id: int) -> None:
        try:
            await self.bot.delete_message(chat_id, message_id)
        except TelegramBadRequest as error:  # already gone is what we wanted
            log.info("delete of %s in %s: %s", message_id, chat_id, error.message)

    async def _posting_messages(self, row: OutboxMessage) -> list[int]:
        if row.posting_id is None:
            return []
        async with self.runtime.sessions() as session:
            posting = await session.get(Posting, row.posting_id)
            return list(posting.message_ids) if posting else []

    async def _record_posting(self, row: OutboxMessage, state: str, title: str | None = None, **values: Any) -> None:
        if row.posting_id is None:
            return
        async with self.runtime.sessions() as session:
            await publication.posting_result(session, row.posting_id, state, now=self.runtime.clock.now(), **values)
            await onboarding.remember_title(session, row.chat_id, title)
            await session.commit()

    async def _acquire(self, chat_id: int) -> None:
        await self.limiters.overall.acquire()
        await self.limiters.for_chat(chat_id).acquire()

    async def _mark(self, row: OutboxMessage, status: str, *, expect: str) -> bool:
        async with self.runtime.sessions() as session:
            result = await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == expect)
                .values(status=status, attempts=OutboxMessage.attempts + 1)
            )
            await session.commit()
            return bool(result.rowcount == 1)

    async def _finish(self, row: OutboxMessage, status: str, *, message_id: int | None = None,
                      error: str | None = None) -> None:
        async with self.runtime.sessions() as session:
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage).where(col(OutboxMessage.id) == row.id)
                .values(status=status, message_id=message_id, error=(error or None) and error[:255],
                        done_at=self.runtime.clock.now())
            )
            await session.commit()

    async def _retry_later(self, row: OutboxMessage, seconds: int) -> None:
        async with self.runtime.sessions() as session:
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage).where(col(OutboxMessage.id) == row.id)
                .values(status="pending", not_before=self.runtime.clock.now() + timedelta(seconds=seconds))
            )
            await session.commit()

    async def _migrate(self, row: OutboxMessage, new_chat_id: int) -> None:
        async with self.runtime.sessions() as session:
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(col(OutboxMessage.chat_id) == row.chat_id,
                       col(OutboxMessage.status).in_(["pending", "sending"]))
                .values(chat_id=new_chat_id, status="pending")
            )
            await onboarding.migrate_chat(session, row.chat_id, new_chat_id)
            await session.commit()

    async def _forbidden(self, row: OutboxMessage, reason: str) -> None:
        async with self.runtime.sessions() as session:
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage).where(col(OutboxMessage.id) == row.id)
                .values(status="failed", error=reason[:255], done_at=self.runtime.clock.now())
            )
            await onboarding.chat_lost(session, row.chat_id, reason)
            await session.commit()

    async def _network_error(self, row: OutboxMessage, detail: str) -> bool:
        """True when the row became uncertain."""
        if "timeout" in detail.lower():
            # The request may have reached Telegram: never resend blindly.
            await self._finish(row, "uncertain", error=detail)
            return True
        await self._retry_later(row, 5)
        return False


def _in_order_per_chat(rows: Iterable[OutboxMessage], now: datetime) -> Iterable[OutboxMessage]:
    """Due rows, but never one that would overtake an earlier row of its chat that must still wait."""
    waiting: set[int] = set()
    for row in rows:
        if row.chat_id in waiting:
            continue
        if row.not_before is not None and row.not_before > now:
            waiting.add(row.chat_id)
            continue
        yield row


class ProgressReporter:
    """Edits the author's "sent 12/40" message as a notice goes out: at most every `interval` seconds
    per notice (a private chat takes about one message a second), and always at the end."""

    def __init__(self, runtime: Runtime, bot: Bot, interval: float = 2.0) -> None:
        self.runtime, self.bot, self.interval = runtime, bot, interval
        self._last: dict[str, float] = {}

    async def report(self, topic: str | None) -> None:
        if not topic or not topic.startswith("notice:"):
            return
        notice_id = int(topic.split(":", 1)[1])
        async with self.runtime.sessions() as session:
            counts = await publication.progress(session, notice_id)
            message = await publication.progress_message(session, notice_id)
        loop_time = asyncio.get_running_loop().time()
        if message is None or message.message_id is None:
            return
        if not counts["done"] and loop_time - self._last.get(topic, -1e9) < self.interval:
            return
        self._last[topic] = loop_time
        ui = self.runtime.texts.for_lang(message.lang or None)
        text = ui.render("delivery_progress", **{**message.context, **counts})
        try:
            await self.bot.edit_message_text(text=text, chat_id=message.chat_id, message_id=message.message_id)
        except (TelegramBadRequest, TelegramRetryAfter, TelegramNetworkError) as error:
            log.info("progress for notice %s not updated: %s", notice_id, error)
