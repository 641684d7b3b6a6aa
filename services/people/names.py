"""The name a person gives for notices (as opposed to their Telegram nickname): printed as reviewer, author and
signer on notices, archives and reports. Asked once when a role is granted, changed with /name, or carried by the
directory file; once chosen, a nickname change in Telegram no longer overwrites it."""

from __future__ import annotations

import unicodedata

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Person
from services.errors import DomainError

NAME_MAX = 30


def clean_name(raw: str | None) -> str:
    """Spaces collapsed; refused: nothing, over NAME_MAX characters, no letter at all (digits, emoji only)."""
    name = " ".join((raw or "").split())
    if not name:
        raise DomainError("name.empty")
    if len(name) > NAME_MAX:
        raise DomainError("name.too_long", limit=NAME_MAX)
    if not any(unicodedata.category(c).startswith("L") for c in name) or name.startswith("/"):
        raise DomainError("name.no_letters")
    return name


async def choose_name(session: AsyncSession, person: Person, raw: str | None) -> str:
    person.name, person.name_chosen = clean_name(raw), True
    session.add(person)
    return person.name


def set_from_directory(person: Person, name: str) -> None:
    """A name the township's directory file gives is as good as one the person chose."""
    person.name, person.name_chosen = clean_name(name), True
