"""Scratch PostgreSQL databases: each pytest run (and each end-to-end test) gets databases of its own,
so runs in parallel (CI, a developer, a second checkout) never truncate each other's tables.

CUNWU_TEST_PG_URL names the server and an existing database to connect to for CREATE/DROP DATABASE.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL = os.environ.get("CUNWU_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def admin_sql(*statements: str) -> None:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")  # CREATE DATABASE runs outside a transaction
    try:
        async with admin.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await admin.dispose()


def scratch_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"


async def create_database(prefix: str) -> str:
    """A new empty database; returns its asyncpg URL."""
    name = scratch_name(prefix)
    await admin_sql(f"CREATE DATABASE {name}")
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    await admin_sql(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")


@contextlib.asynccontextmanager
async def scratch_database(prefix: str) -> AsyncIterator[str]:
    url = await create_database(prefix)
    try:
        yield url
    finally:
        await drop_database(url)
