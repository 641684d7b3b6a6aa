"""Exactly one instance runs the scheduler and the delivery worker.

Telegram's limits are per bot, so one sender is the right number; nags must not be sent by two
schedulers. On PostgreSQL the leader holds a session-level advisory lock on a connection of its own:
when the process dies the connection closes, the lock is released and another instance takes it at
its next try (every `interval` seconds). On SQLite there is one process, and it leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.db import is_sqlite

log = logging.getLogger("cunwu.leader")
LOCK_KEY = 0x63756E7775  # "cunwu"

Hook = Callable[[], Awaitable[None]]


class Leadership:
    def __init__(self, engine: AsyncEngine, url: str, on_gain: Hook, on_lose: Hook, interval: float = 10.0) -> None:
        self.engine, self.url, self.on_gain, self.on_lose, self.interval = engine, url, on_gain, on_lose, interval
        self.leading = False
        self._connection: AsyncConnection | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self._step()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
        finally:
            await self._resign()

    async def _step(self) -> None:
        if self.leading and not await self._still_held():
            log.warning("lost the leader lock")
            await self._resign()
        if not self.leading and await self._acquire():
            log.info("this instance now leads: scheduler and delivery run here")
            self.leading = True
            await self.on_gain()

    async def _acquire(self) -> bool:
        if is_sqlite(self.url):
            return True
        try:
            self._connection = await self.engine.connect()
            got = (await self._connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})).scalar()
            await self._connection.commit()
        except Exception:
            log.exception("could not try the leader lock")
            got = False
        if not got:
            await self._close()
        return bool(got)

    async def _still_held(self) -> bool:
        if self._connection is None:
            return is_sqlite(self.url)
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
            return True
        except Exception:
            return False

    async def _resign(self) -> None:
        if self.leading:
            self.leading = False
            await self.on_lose()
        await self._close()

    async def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()  # closing the connection releases the advisory lock
            self._connection = None
