"""Prometheus metrics (prometheus_client).

Counters of what this process did (updates handled, handler errors, 429s received) live in the process;
figures about the whole deployment (outbox rows by status, nags sent) are read from the database at
scrape time, so every instance reports the same totals and a restart does not reset them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import OutboxMessage
from services.deadlines.history import nags_sent

OUTBOX_STATES = ("pending", "sending", "sent", "failed", "uncertain")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter("cunwu_updates_handled", "Updates handled by this instance",
                               registry=self.registry)
        self.errors = Counter("cunwu_handler_errors", "Updates whose handler failed on this instance",
                              registry=self.registry)
        self.retry_after = Counter("cunwu_telegram_429", "429 (retry_after) answers received by this instance",
                                   registry=self.registry)
        self._outbox: dict[str, int] = dict.fromkeys(OUTBOX_STATES, 0)
        self._nags = 0
        self.registry.register(_DatabaseCollector(self))

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
        return generate_latest(self.registry)


class _DatabaseCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        family = GaugeMetricFamily("cunwu_outbox_rows", "Outbox rows by status (whole deployment)",
                                   labels=["status"])
        for state, count in self.metrics.outbox().items():
            family.add_metric([state], count)
        yield family
        yield CounterMetricFamily("cunwu_nags_sent",
                                  "Nags sent (the nag log and the tally of its pruned rows, whole deployment)",
                                  value=self.metrics.nags())
