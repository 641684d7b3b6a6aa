"""Alembic, configured in code so `cunwu migrate` needs no alembic.ini in the working folder."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Synchronous; from async code run it in a thread (env.py runs its own event loop)."""
    command.upgrade(alembic_config(database_url), revision)
