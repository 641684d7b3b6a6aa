"""The two facts about people and villages the board prints that other work is about to own.

Each is ONE small function that returns what exists today, so the board needs no change when the
directory learns more: a village's official numbers (its supervision phone, 监督电话) and the name a person
gives for notices (as opposed to their Telegram name). Pages, posters and the Mini App read them only here.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Person, Village
from services.people import official_numbers


async def supervision_phone(session: AsyncSession, village: Village) -> str | None:
    """The village's public supervision line (seed 004: 公开监督联系电话), or None while the directory keeps
    none (the village's own, else its township's: services.people.official_numbers). An official number,
    not personal data: it is printed unmasked."""
    return await official_numbers.supervision_phone(session, village)


async def display_name(session: AsyncSession, person: Person) -> str:
    """The name a person acts under on notices: today their Telegram name."""
    return person.name
