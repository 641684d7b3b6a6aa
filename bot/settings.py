"""Typed configuration from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

OFFICIAL_API_URL = "https://api.telegram.org"
PLACEHOLDER_TOKENS = {"", "changeme", "123456:ABC-DEF", "your-bot-token"}


class ConfigError(Exception):
    """A setting that makes starting impossible; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr = SecretStr("")
    telegram_api_url: str = OFFICIAL_API_URL
    database_url: str = "sqlite+aiosqlite:///data/cunwu.db"
    redis_url: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_timezone: str = "Asia/Shanghai"
    policy_profile: str = "jiangyuan"
    default_language: str = "zh"
    log_level: str = "INFO"
    invite_ttl_days: int = 7
    catalog_dirs: Annotated[list[str], NoDecode] = Field(default_factory=list)
    delivery_concurrency: int = 1
    webhook_url: str | None = None  # the public HTTPS URL Telegram posts updates to (`cunwu webhook`)
    webhook_secret: SecretStr = SecretStr("")
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_path: str = "/telegram"
    leader_interval: float = 10.0  # seconds between tries of the leader lock (PostgreSQL)
    scan_hour: int = 9
    petition_days: int = Field(default=60, ge=1)  # an open petition not granted by then expires
    fake_clock_file: str | None = None  # TESTS AND DEMOS ONLY: bot.clock.FileClock reads the time here

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("catalog_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("DEFAULT_LANGUAGE must be zh or en")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def require_token(self) -> str:
        """The token, or a one-line ConfigError when it is missing or a placeholder."""
        token = self.bot_token.get_secret_value().strip()
        if token in PLACEHOLDER_TOKENS or ":" not in token:
            raise ConfigError(
                "BOT_TOKEN is missing or a placeholder: set it in the environment or .env "
                "(get one from @BotFather); `cunwu demo` runs without one."
            )
        return token

    def require_webhook(self) -> tuple[str, str]:
        secret = self.webhook_secret.get_secret_value()
        if not self.webhook_url or len(secret) < 16:
            raise ConfigError("`cunwu webhook` needs WEBHOOK_URL and a WEBHOOK_SECRET of at least 16 characters "
                              "(A-Z a-z 0-9 _ -).")
        return self.webhook_url, secret

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids
