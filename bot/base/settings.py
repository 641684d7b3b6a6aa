"""Typed configuration from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

OFFICIAL_API_URL = "https://api.telegram.org"
PLACEHOLDER_TOKENS = {"", "changeme", "123456:ABC-DEF", "your-bot-token"}
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting that makes starting impossible; the message is one line for the operator."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and .env; a bad value is a one-line ConfigError naming the variable
    (its value is not repeated: it may be the token or a password)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        reason = str(first["msg"]).removeprefix("Value error, ")
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise ConfigError(f"{name} is not valid: {reason}{more}") from error


def valid_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)") from None
    return name


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
    delivery_lease_seconds: int = Field(default=120, ge=10)  # see bot/delivery/worker.py (claims and recovery)
    webhook_url: str | None = None  # the public HTTPS URL Telegram posts updates to (`cunwu webhook`)
    webhook_secret: SecretStr = SecretStr("")
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_path: str = "/telegram"
    leader_interval: float = 10.0  # seconds between tries of the leader lock (PostgreSQL)
    scan_hour: int = 9
    petition_days: int = Field(default=60, ge=1)  # an open petition not granted by then expires
    question_daily_limit: int = Field(default=5, ge=1)  # questions one person may ask a day
    petition_daily_limit: int = Field(default=3, ge=1)  # petitions one person may start a day
    signing_hourly_limit: int = Field(default=10, ge=1)  # signatures and withdrawals by one person an hour
    fake_clock_file: str | None = None  # TESTS AND DEMOS ONLY: bot.base.clock.FileClock reads the time here
    # The public board (web/): where people reach it, where `cunwu run` serves it, how hard one address may pull.
    public_base_url: str | None = None  # e.g. https://board.example.org; unset: no links to the board anywhere
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8081, ge=0, le=65535)  # 0: `cunwu run` serves no pages
    web_rate_limit: int = Field(default=120, ge=0)  # requests a minute from one address; 0: no limit
    web_trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    web_app_max_age: int = Field(default=86_400, ge=60)  # seconds a Mini App's signed init data stays valid

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            if not all(part.isascii() and part.isdigit() for part in parts):
                raise ValueError("expected Telegram user ids (numbers) separated by commas")
            return [int(part) for part in parts]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return valid_timezone(value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        try:
            driver = make_url(value).drivername
        except ArgumentError:
            raise ValueError("not a database URL; expected sqlite+aiosqlite:///PATH "
                             "or postgresql+asyncpg://USER@HOST/NAME") from None
        if driver not in DATABASE_DRIVERS:
            raise ValueError(f"the scheme {driver!r} is not supported; expected {' or '.join(DATABASE_DRIVERS)}")
        return value

    @field_validator("catalog_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("web_trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_base_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip().rstrip("/")
        parsed = urlsplit(text)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
            raise ValueError("expected an http(s) address such as https://board.example.org (no query)")
        return text

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("expected zh or en")
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
