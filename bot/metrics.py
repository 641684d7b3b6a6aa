"""Prometheus metrics (prometheus_client): counters kept in process, outbox gauges read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import select

from models import OutboxMessage

OUTBOX_STATES = ("pending", "sending", "sent", "failed", "uncertain")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter("cunwu_updates_handled_total", "Updates handled", registry=self.registry)
        self.errors = Counter("cunwu_handler_errors_total", "Updates whose handler failed", registry=self.registry)
        self.retry_after = Counter("cunwu_telegram_429_total", "429 responses received", registry=self.registry)
        self.nags = Counter("cunwu_nags_sent_total", "Nags queued", registry=self.registry)
        self._outbox: dict[str, int] = dict.fromkeys(OUTBOX_STATES, 0)
        self.registry.register(_OutboxCollector(self))

    async def refresh(self, sessions: object) -> None:
        """Read the outbox counts once per scrape (the collector itself must stay synchronous)."""
        async with sessions() as session:  # type: ignore[operator]
            rows = await session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
            counts = dict(rows.all())
        self._outbox = {state: int(counts.get(state, 0)) for state in OUTBOX_STATES}

    def outbox(self) -> dict[str, int]:
        return dict(self._outbox)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _OutboxCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("cunwu_outbox_rows", "Outbox rows by status", labels=["status"])
        for state, count in self.metrics.outbox().items():
            family.add_metric([state], count)
        yield family
