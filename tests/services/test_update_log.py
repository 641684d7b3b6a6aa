"""services.update_log: processed update ids are kept for 48 hours (Telegram resends for 24), then pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.process.runtime import Runtime
from models import ProcessedUpdate
from services.update_log import RETENTION, prune_processed

NOW = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)


async def test_ids_older_than_the_window_go_and_younger_ones_stay(runtime: Runtime) -> None:
    assert RETENTION > timedelta(hours=24)  # longer than Telegram's redelivery horizon
    ages = {1: timedelta(minutes=5), 2: timedelta(hours=25), 3: RETENTION - timedelta(minutes=1),
            4: RETENTION + timedelta(minutes=1), 5: timedelta(days=30)}
    async with runtime.sessions() as session:
        for update_id, age in ages.items():
            session.add(ProcessedUpdate(update_id=update_id, processed_at=NOW - age))
        await session.commit()
    async with runtime.sessions() as session:
        assert await prune_processed(session, NOW) == 2
        await session.commit()
    async with runtime.sessions() as session:
        assert await prune_processed(session, NOW) == 0
        left = sorted(row.update_id for row in await session.exec(select(ProcessedUpdate)))
    assert left == [1, 2, 3]
