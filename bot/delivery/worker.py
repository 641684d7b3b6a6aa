"""The delivery worker: outbox rows -> Telegram, within Telegram's limits, never sending a row twice.

Claiming. A worker claims a batch of due rows for itself (`claimed_by`, with a lease in `claimed_until`) in
one short transaction: on PostgreSQL with `SELECT ... FOR UPDATE SKIP LOCKED` under a transaction-scoped
advisory lock, so several workers share one outbox, never take the same row and never split one chat
between them (a chat's rows keep their order and its limit is counted by one worker). On SQLite there is
one process, and its leader is the only worker (bot/process/leader.py); the same code runs without the locks.

Sending. A row is marked `sending` (committed) before its first request. A row that takes several
requests (a long text in parts, then attachments, then the pin) records each confirmed request in
`progress`, so a retry after a 429 continues after the last confirmed part instead of sending part 1
again. A `sending` row whose worker died was in flight: nobody knows whether Telegram got its current
request (sendMessage has no idempotency key), so it becomes `uncertain` instead of being resent. A read
timeout does the same to a send; pins, edits and deletes are idempotent and are simply tried again.

Errors, by kind: 429 waits out retry_after; 400 "migrated" follows the group; 403 marks the chat lost;
401/404 (a revoked token, a wrong API address) and 5xx wait and retry; other 400s fail the row; a
network error that may have reached Telegram makes a send uncertain. One chat's trouble never stops the
others (gather with return_exceptions), and no row is left in `sending` by an error.

A row of a notice retracted meanwhile is never sent (retraction cancels it), and what was in flight is
deleted again when it lands (services.notices.publication.posting_result).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup, Message
from sqlalchemy import or_, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import render as outbox_render
from bot.delivery.limits import ChatLimiters, Limits
from bot.process.runtime import Runtime
from bot.ui.splitting import split_html
from bot.ui.texts import UI
from models import OutboxMessage, Posting
from models.db import is_sqlite
from services.notices import drafts, publication
from services.people import onboarding

__all__ = ["ChatLimiters", "DeliveryWorker", "Limits"]

log = logging.getLogger("cunwu.delivery")
# Bot API answers to an edit of a message the bot may no longer change.
UNEDITABLE = ("message can't be edited", "message to edit not found", "message is not modified")
BATCH = 200
CLAIM_LOCK = 0x63756E7776  # advisory lock key of the claim transaction (the leader's is ...75)
CONFIG_WAIT = 60  # seconds: 401/404 mean the token or the API address is wrong; an operator must act
MAX_ATTEMPTS = 8  # 5xx and connection errors: then the row fails and is reported


class _RetryLater(Exception):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds, self.reason = seconds, reason


class _Cancelled(Exception):
    """The posting was removed (its notice retracted) while this row was going out."""


@dataclass
class _Sent:
    """What one row has achieved so far; mirrors `outbox.progress`."""

    ids: list[int] = field(default_factory=list)
    pinned: bool = False
    repost: bool = False

    @classmethod
    def of(cls, row: OutboxMessage) -> _Sent:
        saved = row.progress or {}
        return cls(list(saved.get("ids", [])), bool(saved.get("pinned")), bool(saved.get("repost")))

    def as_json(self) -> dict[str, Any]:
        return {"ids": self.ids, "pinned": self.pinned, "repost": self.repost}


@dataclass
class _Job:
    """One row being delivered: what it has achieved and what it needs. One per row, so rows of different
    chats can be in flight at once (DELIVERY_CONCURRENCY) without sharing state."""

    row: OutboxMessage
    sent: _Sent
    ui: UI | None = None
    markup: InlineKeyboardMarkup | None = None
    title: str | None = None
    posting: tuple[str | None, dict[str, Any]] | None = None  # (state, values) for the row's posting, once sent
    free_turn: bool = True  # the first request's turn was taken from the limiters by _deliver_chat

    @property
    def chat_id(self) -> int:
        return self.row.chat_id


class DeliveryWorker:
    def __init__(self, runtime: Runtime, bot: Bot, limits: Limits | None = None) -> None:
        self.runtime, self.bot = runtime, bot
        self.limiters = ChatLimiters(limits) if limits else runtime.limiters
        self.slots = asyncio.Semaphore(max(1, runtime.settings.delivery_concurrency))
        self.retry_after_count = 0
        self.progress = ProgressReporter(runtime, bot, self.limiters)
        self.worker_id = str(uuid.uuid4())
        # A claim outlives the slowest wait between two renewals (a group's 20/min turn, a retry) but not a
        # dead worker for long: after a crash on PostgreSQL its rows wait this long for another worker.
        self.lease = timedelta(seconds=runtime.settings.delivery_lease_seconds)
        self.sqlite = is_sqlite(runtime.settings.database_url)
        self.batch = BATCH  # rows per claim

    # --- the loop -----------------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event) -> None:
        await self.recover(startup=True)
        loop = asyncio.get_running_loop()
        recovered_at = loop.time()
        while not stop.is_set():
            try:
                worked = await self.run_once()
                if loop.time() - recovered_at > self.lease.total_seconds() / 2:
                    recovered_at = loop.time()
                    await self.recover()  # another worker's rows, if it died (PostgreSQL)
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
        rows = await self._claim()
        by_chat: dict[int, list[OutboxMessage]] = {}
        for row in rows:
            by_chat.setdefault(row.chat_id, []).append(row)
        results = await asyncio.gather(*(self._deliver_chat(chat_rows) for chat_rows in by_chat.values()),
                                       return_exceptions=True)
        done = 0
        for chat_id, result in zip(by_chat, results, strict=True):
            if isinstance(result, BaseException):
                log.error("delivery to %s failed", chat_id, exc_info=result)
            else:
                done += result
        await self.progress.flush()
        return done

    # --- claiming and recovery ----------------------------------------------------------------------

    async def _claim(self) -> list[OutboxMessage]:
        now = self.runtime.clock.now()
        async with self.runtime.sessions() as session:
            if not self.sqlite:
                # Claims are serialised (a few milliseconds each), so two workers cannot both take rows
                # of one chat; SKIP LOCKED keeps a claim from waiting on rows another transaction holds.
                await session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=CLAIM_LOCK))  # type: ignore[call-overload]
            busy = await self._chats_of_others(session, now)
            query = (select(OutboxMessage)
                     .where(OutboxMessage.status == "pending",
                            or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now,
                                col(OutboxMessage.claimed_by) == self.worker_id))
                     .order_by(col(OutboxMessage.id)).limit(self.batch))
            if not self.sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = [r for r in _in_order_per_chat(await session.exec(query), now) if r.chat_id not in busy]
            if rows:
                await session.exec(update(OutboxMessage)
                                   .where(col(OutboxMessage.id).in_([r.id for r in rows]))
                                   .values(claimed_by=self.worker_id, claimed_until=now + self.lease))
            await session.commit()
        return rows

    async def _chats_of_others(self, session: AsyncSession, now: datetime) -> set[int]:
        held = await session.exec(
            select(OutboxMessage.chat_id).distinct()
            .where(col(OutboxMessage.status).in_(["pending", "sending"]), col(OutboxMessage.claimed_until) >= now,
                   col(OutboxMessage.claimed_by) != self.worker_id))
        return set(held)

    async def recover(self, *, startup: bool = False) -> int:
        """Rows left `sending` by a dead worker become `uncertain`, and so do their postings. At start-up on
        SQLite every claim is a dead process's (there is one process), so all are released at once; on
        PostgreSQL only claims whose lease ran out, because other workers may be alive."""
        now = self.runtime.clock.now()
        everything = startup and self.sqlite
        query = select(OutboxMessage).where(OutboxMessage.status == "sending")
        if not everything:
            query = query.where(or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now))
        async with self.runtime.sessions() as session:
            if everything:
                await session.exec(update(OutboxMessage).where(col(OutboxMessage.status) == "pending")
                                   .values(claimed_by=None, claimed_until=None))
            rows = list(await session.exec(query))
            for row in rows:
                row.status, row.error, row.done_at = "uncertain", "in flight when its worker stopped", now
                session.add(row)
                if row.posting_id is not None and row.action in ("post", "edit"):
                    await self._posting_missed(session, _Job(row, _Sent.of(row)), "uncertain")
            await session.commit()
        if rows:
            log.warning("%s outbox rows were in flight when their worker stopped: now uncertain", len(rows))
        for topic in sorted({row.topic for row in rows if row.topic}):
            await self.progress.report(topic, now=True)  # the last edit may have come before the lease ran out
        return len(rows)

    # --- one chat, one row --------------------------------------------------------------------------

    async def _deliver_chat(self, rows: list[OutboxMessage]) -> int:
        done = 0
        for row in rows:
            limiter = self.limiters.for_chat(row.chat_id)
            if not limiter.has_capacity():
                break  # this chat's own limit: leave the rest for a later round, others go on
            async with self.slots, self.limiters.overall, limiter:
                outcome = await self._deliver(row)
            if outcome == "wait":
                break
            done += outcome == "done"
        return done

    async def _deliver(self, row: OutboxMessage) -> str:
        """"done", "skip" (someone else has it, or it was cancelled) or "wait" (the chat's later rows wait)."""
        if not await self._start(row):
            return "skip"
        job = _Job(row, _Sent.of(row))
        try:
            message_id = await self._perform(job)
        except Exception as error:  # every kind is decided below; nothing leaves a row in `sending`
            return await self._failed(job, error)
        await self._finish(job, "sent", message_id=message_id)
        await self._after(job, "sent")
        return "done"

    async def _failed(self, job: _Job, error: Exception) -> str:
        """Retry or give up, by the kind of error (see the module's docstring)."""
        row = job.row
        if isinstance(error, _Cancelled):
            await self._finish(job, "cancelled", error="notice retracted while sending")
            return "done"
        if isinstance(error, TelegramRetryAfter):
            self.retry_after_count += 1
            self.runtime.metrics.retry_after.inc()
            await self._retry_later(job, error.retry_after, "429")
            return "wait"
        if isinstance(error, _RetryLater):
            await self._retry_later(job, error.seconds, error.reason)
            return "wait"
        if isinstance(error, TelegramMigrateToChat):
            await self._migrate(row, error.migrate_to_chat_id)
            return "wait"
        if isinstance(error, TelegramForbiddenError):
            await self._forbidden(job, error.message)
            await self._after(job, "failed")
            return "done"
        if isinstance(error, TelegramUnauthorizedError | TelegramNotFound):
            log.error("Telegram refused the bot (%s): check BOT_TOKEN and TELEGRAM_API_URL", error.message)
            await self._retry_later(job, CONFIG_WAIT, error.message)
            return "wait"
        if isinstance(error, TelegramServerError) or _never_sent(error):
            return await self._transient(job, str(error))
        if isinstance(error, TelegramNetworkError) and not isinstance(error, TelegramEntityTooLarge):
            # The request may have reached Telegram: never resend blindly.
            log.warning("outbox %s to %s uncertain: %s", row.id, row.chat_id, error.message)
            await self._finish(job, "uncertain", error=str(error))
            await self._after(job, "uncertain")
            return "wait"
        if isinstance(error, TelegramAPIError):  # 400 and the rest: this row cannot be sent
            # An edit of a message Telegram no longer lets the bot change (a review request whose decision is
            # written into it, in a chat where it became inaccessible) is expected, not a fault.
            gone = row.action == "edit" and any(words in error.message for words in UNEDITABLE)
            (log.info if gone else log.warning)("outbox %s to %s refused: %s", row.id, row.chat_id, error.message)
            status = "failed"
        else:  # a bug or a database error: whether the current request went out is unknown
            log.error("outbox %s to %s: unexpected error", row.id, row.chat_id, exc_info=error)
            status = "uncertain"
        await self._finish(job, status, error=str(error) or type(error).__name__)
        await self._after(job, status)
        return "done"

    async def _transient(self, job: _Job, detail: str) -> str:
        if job.row.attempts >= MAX_ATTEMPTS:
            await self._finish(job, "failed", error=detail)
            await self._after(job, "failed")
            return "done"
        await self._retry_later(job, min(300, 5 * 2 ** max(0, job.row.attempts - 1)), detail)
        return "wait"

    async def _after(self, job: _Job, status: str) -> None:
        """Record a notice's posting that did not make it, and keep the author's progress message current."""
        row = job.row
        if status == "sent" and row.topic and row.topic.startswith("progress:"):
            # The author's private chat is slower (1 message/s) than the groups: when the progress message
            # goes out after the postings finished, no later posting would ever bring it up to date.
            await self.progress.report("notice:" + row.topic.split(":", 1)[1], now=True)
            return
        if row.posting_id is None or row.action not in ("post", "edit"):
            return
        if status != "sent":
            async with self.runtime.sessions() as session:
                await self._posting_missed(session, job, status)
                await session.commit()
        await self.progress.report(row.topic)

    # --- what each action does ----------------------------------------------------------------------

    async def _perform(self, job: _Job) -> int | None:
        row = job.row
        job.ui = self.runtime.texts.for_lang(row.lang or None)
        job.markup = outbox_render.markup(job.ui, row.keyboard, self.runtime)
        target = int(row.target_message_id or 0)
        if row.action == "post":
            return await self._post(job)
        if row.action == "send":
            return await self._send(job)
        if row.action == "edit":
            return await self._edit(job)
        if row.action == "photo":
            return await self._photo(job)
        if row.action == "pin":
            await self._pin(job, target, required=True)
        elif row.action == "unpin":
            await self._unpin(job, target)
        elif row.action == "delete":
            await self._delete(job, target)
        return target or None

    def _render(self, job: _Job) -> str:
        assert job.ui is not None
        return job.ui.render(job.row.template, **job.row.context)

    async def _turn(self, job: _Job) -> None:
        """Every message sent takes its turn from the limiters; the row's first was taken by _deliver_chat."""
        if job.free_turn:
            job.free_turn = False
            return
        await self.limiters.acquire(job.chat_id)

    async def _send(self, job: _Job) -> int:
        """A message to a person or a group; a long one in parts, its buttons under the last part."""
        parts = split_html(self._render(job)) or ["…"]
        await self._send_parts(job, parts, [], markup_on=len(parts) - 1)
        return job.sent.ids[-1]

    async def _post(self, job: _Job) -> int:
        """A notice: its text in as many messages as it needs, buttons on the first, attachments, then pinned."""
        parts = split_html(self._render(job))
        await self._send_parts(job, parts, await self._files(job.row), markup_on=0)
        pinned = await self._pin_first(job)
        self._record(job, "posted", parts=len(parts), pinned=pinned)
        return job.sent.ids[0]

    async def _send_parts(self, job: _Job, parts: list[str], files: list[dict[str, str]], markup_on: int) -> None:
        """Each text part, then each file, continuing after the last one Telegram confirmed."""
        steps = len(parts) + len(files)
        for index in range(len(job.sent.ids), steps):
            await self._turn(job)
            if index < len(parts):
                sent = await self.bot.send_message(job.chat_id, parts[index],
                                                   reply_markup=job.markup if index == markup_on else None)
            else:
                sent = await self._send_file(job.chat_id, files[index - len(parts)])
            job.title = sent.chat.title
            job.sent.ids.append(sent.message_id)
            if index + 1 < steps:  # the last one is recorded with the row (or by _retry_later / _finish)
                await self._save_progress(job)

    async def _send_file(self, chat_id: int, file: dict[str, str]) -> Message:
        if file["kind"] == "photo":
            return await self.bot.send_photo(chat_id, file["file_id"])
        return await self.bot.send_document(chat_id, file["file_id"])

    async def _files(self, row: OutboxMessage) -> list[dict[str, str]]:
        delivery = row.context.get("delivery")
        if delivery is not None:
            return list(delivery.get("files") or [])
        notice_id = row.context.get("notice_id")  # a row queued before files were frozen into it
        if not notice_id or row.context.get("corrected"):
            return []
        async with self.runtime.sessions() as session:
            return [{"kind": a.kind, "file_id": a.file_id} for a in await drafts.attachments(session, int(notice_id))]

    async def _pin_first(self, job: _Job) -> bool:
        """Pin the notice's first message, once; a group where the bot may not pin keeps it unpinned."""
        if job.sent.pinned or not await self._wants_pin(job.row):
            return job.sent.pinned
        job.sent.pinned = await self._pin(job, job.sent.ids[0], required=False)
        return job.sent.pinned

    async def _pin(self, job: _Job, message_id: int, *, required: bool) -> bool:
        """Pinning twice is harmless, so a pin that timed out or met a 5xx is simply tried again later.
        A pin takes its turn from the limiters, as a message does."""
        await self._turn(job)
        try:
            await self.bot.pin_chat_message(job.chat_id, message_id, disable_notification=True)
        except TelegramBadRequest as error:  # no right to pin, or the message is gone: still posted
            if required:
                raise
            log.warning("could not pin in %s: %s", job.chat_id, error.message)
            return False
        except (TelegramNetworkError, TelegramServerError) as error:
            raise _RetryLater(5, f"pin: {error}") from error
        return True

    async def _unpin(self, job: _Job, message_id: int) -> None:
        await self._turn(job)
        try:
            await self.bot.unpin_chat_message(chat_id=job.chat_id, message_id=message_id)
        except TelegramBadRequest as error:  # the message is gone, or no longer pinned: unpinned either way
            log.info("unpin of %s in %s: %s", message_id, job.chat_id, error.message)
        except (TelegramNetworkError, TelegramServerError) as error:
            raise _RetryLater(5, f"unpin: {error}") from error
        self._record(job, None, pinned=False)

    async def _wants_pin(self, row: OutboxMessage) -> bool:
        delivery = row.context.get("delivery")
        if delivery is not None:
            return bool(delivery.get("pin"))
        async with self.runtime.sessions() as session:
            posting = await session.get(Posting, row.posting_id) if row.posting_id else None
            return bool(posting and posting.pin)

    async def _photo(self, job: _Job) -> int:
        """A township's compliance chart, drawn now (the row keeps only the township and quarter)."""
        from aiogram.types import BufferedInputFile

        from services.deadlines.compliance import legend, township_chart
        from services.township.views import chart_title

        row, ui = job.row, job.ui
        assert ui is not None
        now = self.runtime.clock.now()
        async with self.runtime.sessions() as session:
            _, png = await township_chart(session, self.runtime.policy, int(row.context["township_id"]),
                                          str(row.context["quarter"]), now, legend(ui.texts.plain, ui.lang),
                                          lambda report: chart_title(ui.texts.plain, ui.lang, report, now), ui.lang)
        caption = self._render(job)
        sent = await self.bot.send_photo(row.chat_id, BufferedInputFile(png, "report.png"),
                                         caption=caption if len(caption) <= 1024 else None, reply_markup=job.markup)
        return sent.message_id

    async def _edit(self, job: _Job) -> int | None:
        """A correction edits the posted text in place; where that is impossible (a different number of
        parts, other attachments, a message too old to edit) it is posted again."""
        row = job.row
        text = self._render(job)
        if row.posting_id is None and row.target_message_id:
            # Not a notice (a petition's live count, a review request's decision): edit that message. A text
            # once sent in parts carries its buttons on the last part, which gets the end of the new text;
            # when the row names all the parts (`part_ids`), each is rewritten.
            parts = split_html(text) or [text]
            part_ids = [int(i) for i in row.context.get("part_ids") or []]
            if len(part_ids) > 1:
                return await self._edit_parts(job, part_ids, parts)
            await self._edit_one(job, int(row.target_message_id), parts[-1], job.markup)
            return int(row.target_message_id)
        posting = await self._posting(row)
        parts = split_html(text)
        delivery = row.context.get("delivery") or {}
        same_files = delivery.get("files", []) == delivery.get("previous_files", [])
        if (job.sent.repost or posting is None or not posting.message_ids
                or len(parts) != len(posting.message_ids) or not same_files):
            return await self._repost(job, posting)
        try:
            for index, (message_id, part) in enumerate(zip(posting.message_ids, parts, strict=True)):
                await self._edit_one(job, message_id, part, job.markup if index == 0 else None)
        except TelegramBadRequest as error:
            log.info("correction in %s cannot be edited in place (%s): posted again", job.chat_id, error.message)
            return await self._repost(job, posting)
        job.sent.ids = list(posting.message_ids)
        job.sent.pinned = posting.pinned
        pinned = await self._pin_first(job)
        self._record(job, "posted", parts=len(parts), pinned=pinned, attachment_ids=posting.attachment_ids)
        return posting.message_ids[0]

    async def _edit_parts(self, job: _Job, message_ids: list[int], parts: list[str]) -> int:
        """A message sent in parts rewritten part by part, the markup under the last. The new text rarely
        needs another number of parts; when it needs fewer the spare messages go, when more the rest is sent
        below (an edit repeated after a failure is harmless; such a send might be repeated)."""
        last = message_ids[-1]
        for index, part in enumerate(parts):
            markup = job.markup if index == len(parts) - 1 else None
            if index < len(message_ids):
                await self._edit_one(job, message_ids[index], part, markup)
                last = message_ids[index]
            else:
                await self._turn(job)
                last = (await self.bot.send_message(job.chat_id, part, reply_markup=markup)).message_id
        for spare in message_ids[len(parts):]:
            await self._delete(job, spare)
        return last

    async def _edit_one(self, job: _Job, message_id: int, text: str, markup: InlineKeyboardMarkup | None) -> None:
        await self._turn(job)  # an edit counts against the limits as a message does
        try:
            await self.bot.edit_message_text(text=text, chat_id=job.chat_id, message_id=message_id,
                                             reply_markup=markup)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                raise
        except (TelegramNetworkError, TelegramServerError) as error:  # an edit may be repeated safely
            raise _RetryLater(5, f"edit: {error}") from error

    async def _repost(self, job: _Job, posting: Posting | None) -> int:
        if not job.sent.repost:
            job.sent = _Sent(repost=True)
            await self._save_progress(job)  # from here on a retry continues the new post, not the edit
            if posting is not None:
                for message_id in [*posting.message_ids, *posting.attachment_ids]:
                    await self._delete(job, message_id)
        return await self._post(job)

    async def _delete(self, job: _Job, message_id: int) -> None:
        try:
            await self.bot.delete_message(job.chat_id, message_id)
        except TelegramBadRequest as error:  # already gone is what we wanted
            log.info("delete of %s in %s: %s", message_id, job.chat_id, error.message)
        except (TelegramNetworkError, TelegramServerError) as error:
            raise _RetryLater(5, f"delete: {error}") from error

    # --- the database side --------------------------------------------------------------------------

    async def _posting(self, row: OutboxMessage) -> Posting | None:
        if row.posting_id is None:
            return None
        async with self.runtime.sessions() as session:
            return await session.get(Posting, row.posting_id)

    async def _save_progress(self, job: _Job) -> None:
        """Remember the confirmed requests (and renew the lease); stop if the notice was retracted meanwhile."""
        row = job.row
        async with self.runtime.sessions() as session:
            renewed = self.runtime.clock.now() + self.lease
            await session.exec(update(OutboxMessage).where(col(OutboxMessage.id) == row.id)
                               .values(progress=job.sent.as_json(), claimed_until=renewed))
            removed = await publication.is_removed(session, row.posting_id)
            if removed and row.action in ("post", "edit"):
                await publication.posting_result(session, row.posting_id or 0, "removed", message_ids=job.sent.ids)
            await session.commit()
        if removed and row.action in ("post", "edit"):
            raise _Cancelled()

    def _record(self, job: _Job, state: str | None, *, parts: int | None = None, **values: Any) -> None:
        """What the row did to its posting; written with the row's own status, in one transaction."""
        if parts is not None:
            values.setdefault("attachment_ids", job.sent.ids[parts:])
            values["message_ids"] = job.sent.ids[:parts]
        job.posting = (state, values)

    async def _posting_missed(self, session: AsyncSession, job: _Job, state: str) -> None:
        """A posting that did not make it; whatever messages were confirmed are kept with it."""
        await publication.posting_result(session, job.row.posting_id or 0, state,
                                         message_ids=job.sent.ids or None, now=self.runtime.clock.now())

    async def _start(self, row: OutboxMessage) -> bool:
        async with self.runtime.sessions() as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == "pending",
                       col(OutboxMessage.claimed_by) == self.worker_id)
                .values(status="sending", attempts=OutboxMessage.attempts + 1,
                        claimed_until=self.runtime.clock.now() + self.lease)
            )
            await session.commit()
        row.attempts += 1
        return bool(result.rowcount == 1)

    async def _finish(self, job: _Job, status: str, *, message_id: int | None = None,
                      error: str | None = None) -> None:
        async with self.runtime.sessions() as session:
            await session.exec(
                update(OutboxMessage).where(col(OutboxMessage.id) == job.row.id)
                .values(status=status, message_id=message_id, error=(error or None) and error[:255],
                        done_at=self.runtime.clock.now(), progress=job.sent.as_json() if job.sent.ids else None)
            )
            if status == "sent" and job.posting is not None and job.row.posting_id is not None:
                state, values = job.posting
                await publication.posting_result(session, job.row.posting_id, state, now=self.runtime.clock.now(),
                                                 **values)
                await onboarding.remember_title(session, job.chat_id, job.title)
            await session.commit()

    async def _retry_later(self, job: _Job, seconds: float, reason: str) -> None:
        async with self.runtime.sessions() as session:
            await session.exec(
                update(OutboxMessage).where(col(OutboxMessage.id) == job.row.id)
                .values(status="pending", error=reason[:255], progress=job.sent.as_json(),
                        not_before=self.runtime.clock.now() + timedelta(seconds=seconds))
            )
            await session.commit()

    async def _migrate(self, row: OutboxMessage, new_chat_id: int) -> None:
        """The group became a supergroup: its rows (this one too, from the start: nothing of it was
        confirmed in the old chat's history that the new one shows) and its postings move with it."""
        async with self.runtime.sessions() as session:
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.chat_id) == row.chat_id,
                       col(OutboxMessage.status).in_(["pending", "sending"]))
                .values(chat_id=new_chat_id, status="pending", progress=None)
            )
            await onboarding.migrate_chat(session, row.chat_id, new_chat_id)
            await publication.postings_moved(session, row.chat_id, new_chat_id)
            await session.commit()

    async def _forbidden(self, job: _Job, reason: str) -> None:
        async with self.runtime.sessions() as session:
            await session.exec(
                update(OutboxMessage).where(col(OutboxMessage.id) == job.row.id)
                .values(status="failed", error=reason[:255], done_at=self.runtime.clock.now())
            )
            await onboarding.chat_lost(session, job.chat_id, reason)
            await session.commit()


def _never_sent(error: Exception) -> bool:
    """A connection that was never made: safe to try again (aiohttp's connector errors)."""
    return isinstance(error, TelegramNetworkError) and any(
        mark in error.message for mark in ("ClientConnectorError", "Cannot connect to host"))


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
    """Edits the author's "sent 12/40" message as a notice goes out: at most every `interval` seconds per
    notice (a private chat takes about one message a second), and at the end of every delivery round, so
    the last edit ("done") always comes. Counting a notice's postings is a query over all of them, so it
    runs only when an edit may follow, not after every group."""

    def __init__(self, runtime: Runtime, bot: Bot, limiters: ChatLimiters, interval: float = 2.0) -> None:
        self.runtime, self.bot, self.interval, self.limiters = runtime, bot, interval, limiters
        self._last: dict[str, float] = {}
        self._messages: dict[int, OutboxMessage] = {}
        self._due: set[str] = set()

    async def report(self, topic: str | None, *, now: bool = False) -> None:
        if not topic or not topic.startswith("notice:"):
            return
        loop_time = asyncio.get_running_loop().time()
        if not now and loop_time - self._last.get(topic, -1e9) < self.interval:
            self._due.add(topic)  # said at the end of this round at the latest
            return
        self._due.discard(topic)
        self._last[topic] = loop_time
        await self._edit(int(topic.split(":", 1)[1]))

    async def flush(self) -> None:
        for topic in sorted(self._due):
            await self.report(topic, now=True)

    async def _edit(self, notice_id: int) -> None:
        async with self.runtime.sessions() as session:
            counts = await publication.progress(session, notice_id)
            message = self._messages.get(notice_id) or await publication.progress_message(session, notice_id)
        if message is None or message.message_id is None:
            return
        self._messages[notice_id] = message  # sent once and never changed: no need to read it again
        ui = self.runtime.texts.for_lang(message.lang or None)
        text = ui.render("delivery_progress", **{**message.context, **counts})
        await self.limiters.acquire(message.chat_id)  # an edit takes its turn as a message does
        try:
            await self.bot.edit_message_text(text=text, chat_id=message.chat_id, message_id=message.message_id)
        except TelegramAPIError as error:
            log.info("progress for notice %s not updated: %s", notice_id, error)
