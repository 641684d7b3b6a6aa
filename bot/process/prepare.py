"""What every command needs before it works: a reachable, migrated database, and the runtime over it.

Apart from bot/process/app.py (the long-running process) so that the operator commands (`cunwu obligations`,
`admin ...`) reach it without importing aiogram, the Dispatcher or the web server they never use.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.base.logs import RedactTokens
from bot.base.settings import ConfigError, Settings
from bot.process.runtime import Runtime, build_runtime
from models.db import is_sqlite
from models.migrate import MigrationError, upgrade_in_child


def one_line(text: str, limit: int = 200) -> str:
    return " ".join(RedactTokens().redact(text).split())[:limit]


def ensure_sqlite_folder(url: str) -> None:
    """The folder of a SQLite file is created on start; one that cannot be is an operator's mistake."""
    database = make_url(url).database if is_sqlite(url) else None
    if not database or database == ":memory:":
        return
    folder = Path(database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the folder {folder} of the SQLite database in DATABASE_URL: "
                          f"{error.strerror or error}") from error


async def check_database(runtime: Runtime) -> None:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver's connection failure
        cause = getattr(error, "orig", None) or error
        raise ConfigError(f"cannot reach the database at DATABASE_URL: {type(cause).__name__}: "
                          f"{one_line(str(cause).splitlines()[0] if str(cause) else '')}") from error


async def prepare(settings: Settings) -> Runtime:
    """Everything a command needs before it works: a reachable, migrated database."""
    ensure_sqlite_folder(settings.database_url)
    runtime = build_runtime(settings)
    try:
        await check_database(runtime)
        await upgrade_in_child(settings.database_url)  # a child process: Alembic never loads into the bot
    except MigrationError as error:
        await runtime.close()
        raise ConfigError(f"the database migration failed: {error}") from error
    except ConfigError:
        await runtime.close()
        raise
    return runtime
