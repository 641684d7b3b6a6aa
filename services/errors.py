"""Domain errors. Each carries a message key the bot renders in the person's language."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no. `key` names a locale string; `params` fill it."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotAllowed(DomainError):
    """The person does not hold the role this action needs in this village."""
