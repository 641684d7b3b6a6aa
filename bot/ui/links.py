"""Deep links (t.me/<bot>?start=<payload>): what a link handler receives, and its id parsed safely.

Payloads are `<prefix>_<ref>` in `[A-Za-z0-9_-]{1,64}`; anyone can edit one by hand, so a ref that is not
a plain positive number is refused before any service sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.process.runtime import Runtime
from bot.ui.texts import UI
from models import Person
from services.errors import DomainError

MAX_ID = 2**31 - 1  # the id columns are 32-bit integers


@dataclass(frozen=True)
class Opened:
    message: Message
    ref: str  # the payload after its prefix
    session: AsyncSession
    person: Person
    ui: UI
    runtime: Runtime
    state: FSMContext


# A link handler answers the person; True asks the caller to show the home screen after it.
LinkHandler = Callable[[Opened], Awaitable[bool]]


def parse_id(ref: str) -> int:
    if not (ref.isascii() and ref.isdigit()) or len(ref) > 10 or not 0 < int(ref) <= MAX_ID:
        raise DomainError("err.bad_link")
    return int(ref)
