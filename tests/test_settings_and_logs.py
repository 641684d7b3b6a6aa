"""Configuration refusals and the token never reaching a log line."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactTokens
from bot.settings import ConfigError, Settings

TOKEN = "8123456789:AAHk1ZxYwVuTsRqPoNmLkJiHgFeDcBa98765"


@pytest.mark.parametrize("token", ["", "changeme", "123456:ABC-DEF", "no-colon"])
def test_missing_or_placeholder_token_is_refused_in_one_line(token: str) -> None:
    settings = Settings(_env_file=None, bot_token=token)  # type: ignore[call-arg]
    with pytest.raises(ConfigError) as caught:
        settings.require_token()
    assert "\n" not in str(caught.value) and "BOT_TOKEN" in str(caught.value)


def test_admin_ids_from_a_comma_separated_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "11, 22,33")
    assert Settings(_env_file=None).admin_ids == [11, 22, 33]  # type: ignore[call-arg]


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
