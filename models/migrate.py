"""Alembic, configured in code so `cunwu migrate` needs no alembic.ini in the working folder.

Alembic (with Mako and Pygments, which it imports) adds ~11 MB to a process, so the long-running bot
migrates through `upgrade_in_child`: a short-lived `python -m models.migrate` that exits when done.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
URL_VARIABLE = "CUNWU_MIGRATE_URL"  # the environment, not argv: a password in argv is visible in `ps`


class MigrationError(RuntimeError):
    """The migration failed; the message is the child's last line of output."""


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Synchronous; from async code run it in a thread (env.py runs its own event loop)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


async def upgrade_in_child(database_url: str) -> None:
    env = {**os.environ, URL_VARIABLE: database_url}
    child = await asyncio.create_subprocess_exec(sys.executable, "-m", "models.migrate", env=env,
                                                 stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await child.communicate()
    if child.returncode != 0:
        raise MigrationError(_cause(err.decode(errors="replace")) or f"exit code {child.returncode}")


def _cause(output: str) -> str:
    """The exception line of a traceback (not SQLAlchemy's trailing "Background on this error" link)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"[\w.]+(Error|Exception)\b", line)]
    return (errors or lines or [""])[-1][:300]


if __name__ == "__main__":
    upgrade(os.environ[URL_VARIABLE])
