"""Prometheus metrics (prometheus_client, in the text format it writes).

Counters of what this process did (updates handled, handler errors, 429s received) live in the process;
figures about the whole deployment (outbox rows by status, nags sent) are read from the database at
scrape time, so every instance reports the same totals and a restart does not reset them.

The counters are plain integers and prometheus_client is imported at the first scrape: only `cunwu webhook`
serves /metrics, and the import (with the http.server, wsgiref and gzip it brings) costs about 1 MB resident
that `cunwu run` never needs. A scrape shows what prometheus_client's own Counter would (`_total`, `_created`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import OutboxMessage
from services.deadlines.history import nags_sent

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

OUTBOX_STATES = ("pending", "sending", "sent", "failed", "uncertain")


class ProcessCounter:
    """A counter of this process (what prometheus_client's Counter counts, without importing it)."""

    __slots__ = ("created", "documentation", "name", "value")

    def __init__(self, name: str, documentation: str) -> None:
        self.name, self.documentation = name, documentation
        self.value = 0.0
        self.created = time.time()

    def inc(self, amount: float = 1) -> None:
        self.value += amount


class Metrics:
    def __init__(self) -> None:
        self.updates = ProcessCounter("cunwu_updates_handled", "Updates handled by this instance")
        self.errors = ProcessCounter("cunwu_handler_errors", "Updates whose handler failed on this instance")
        self.retry_after = ProcessCounter("cunwu_telegram_429", "429 (retry_after) answers received by this instance")
        self._outbox: dict[str, int] = dict.fromkeys(OUTBOX_STATES, 0)
        self._nags = 0
        self._registry: CollectorRegistry | None = None

    async def refresh(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Read the database figures once per scrape (a collector itself must stay synchronous)."""
        async with sessions() as session:
            rows = await session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
            counts = dict(rows.all())
            self._nags = await nags_sent(session)
        self._outbox = {state: int(counts.get(state, 0)) for state in OUTBOX_STATES}

    def outbox(self) -> dict[str, int]:
        return dict(self._outbox)

    def nags(self) -> int:
        return self._nags

    def exposition(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        if self._registry is None:
            self._registry = CollectorRegistry()
            self._registry.register(self)  # a collector: it has collect()
        return bytes(generate_latest(self._registry))

    def collect(self) -> Iterator[Any]:
        """What a scrape shows (prometheus_client's collector protocol): the process counters, then the
        deployment's figures."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        for counter in (self.updates, self.errors, self.retry_after):
            yield CounterMetricFamily(counter.name, counter.documentation, value=counter.value,
                                      created=counter.created)
        family = GaugeMetricFamily("cunwu_outbox_rows", "Outbox rows by status (whole deployment)",
                                   labels=["status"])
        for state, count in self.outbox().items():
            family.add_metric([state], count)
        yield family
        yield CounterMetricFamily("cunwu_nags_sent",
                                  "Nags sent (the nag log and the tally of its pruned rows, whole deployment)",
                                  value=self.nags())
