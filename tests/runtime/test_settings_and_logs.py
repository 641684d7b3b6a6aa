"""Configuration refusals and the token never reaching a log line."""

from __future__ import annotations

import logging

import pytest

from bot.base.logs import RedactTokens
from bot.base.settings import ConfigError, Settings, load_settings

TOKEN = "8123456789:AAHk1ZxYwVuTsRqPoNmLkJiHgFeDcBa98765"


@pytest.mark.parametrize("token", ["", "changeme", "123456:ABC-DEF", "no-colon"])
def test_missing_or_placeholder_token_is_refused_in_one_line(token: str) -> None:
    settings = Settings(_env_file=None, bot_token=token)
    with pytest.raises(ConfigError) as caught:
        settings.require_token()
    assert "\n" not in str(caught.value) and "BOT_TOKEN" in str(caught.value)


def test_admin_ids_from_a_comma_separated_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "11, 22,33")
    assert Settings(_env_file=None).admin_ids == [11, 22, 33]


def test_token_is_redacted_from_messages_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    handler = caplog.handler
    handler.addFilter(RedactTokens([TOKEN]))
    with caplog.at_level(logging.INFO, logger="test.redact"):
        logger.info("GET https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed for /bot{TOKEN}/sendMessage")
        except RuntimeError:
            logger.exception("boom")
        logger.info("another shape 7000000001:%s", "Z" * 35)
    text = caplog.text
    assert TOKEN not in text and "Z" * 35 not in text
    assert text.count("<token>") >= 3
    handler.removeFilter(handler.filters[-1])


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("ADMIN_IDS", "12,abc", "Telegram user ids"),
        ("LOG_LEVEL", "loud", "DEBUG, INFO"),
        ("DEFAULT_TIMEZONE", "Mars/Base", "unknown time zone"),
        ("DEFAULT_LANGUAGE", "fr", "zh or en"),
        ("DATABASE_URL", "mysql://root:hunter2@db/cunwu", "'mysql' is not supported"),
        ("DATABASE_URL", "postgresql://root:hunter2@db/cunwu", "postgresql+asyncpg"),
        ("DATABASE_URL", "not a url", "not a database URL"),
        ("INVITE_TTL_DAYS", "a week", "integer"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, variable: str, value: str,
                                                      reason: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None)
    message = str(caught.value)
    assert message.startswith(f"{variable} is not valid: ") and reason in message, message
    assert "\n" not in message and "hunter2" not in message


def test_log_level_is_case_insensitive_and_zones_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Asia/Urumqi")
    settings = load_settings(_env_file=None)
    assert (settings.log_level, settings.default_timezone) == ("DEBUG", "Asia/Urumqi")
