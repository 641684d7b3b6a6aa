"""Alembic environment: runs migrations over the project's async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on the metadata)
from models.db import create_engine

target_metadata = SQLModel.metadata
MIGRATION_LOCK = 7_314_159  # a PostgreSQL advisory lock key of this project's own


def _run(connection: Connection) -> None:
    render_batch = connection.dialect.name == "sqlite"
    if render_batch:
        # To alter a column SQLite rebuilds the table (batch mode) and drops the old one while other tables'
        # rows still point at it; the rebuilt table keeps every id. Foreign keys are off while migrating: the
        # pragma works only outside a transaction, so it comes first (the app's connections turn them on).
        connection.execute(text("PRAGMA foreign_keys=OFF"))
        connection.commit()
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=render_batch)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Instances that start together each migrate first: one at a time, and each reads the schema's
            # version only once it holds the lock, so the later ones find nothing left to do. (SQLite: one
            # machine; its file lock and busy timeout do the same.)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
