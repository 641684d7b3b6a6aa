"""Processed update ids (webhook mode, see bot/pipeline/middlewares.py): kept long enough to recognise any
redelivery of an update, then pruned so the table does not grow without bound."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from models import ProcessedUpdate

# Telegram keeps an unconfirmed update for at most 24 hours; twice that leaves room for a clock that is off
# and for an outage of the bot itself. At county scale that is a few hundred thousand rows at most.
RETENTION = timedelta(hours=48)


async def prune_processed(session: AsyncSession, now: datetime, keep: timedelta = RETENTION) -> int:
    """Delete the ids recorded before `now - keep`; returns how many went."""
    result = await session.exec(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < now - keep))
    return int(result.rowcount or 0)
