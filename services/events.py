"""What one use case announces to the others: a notice published, corrected or retracted, an obligation met.

The notice workflow does not know who cares about a publication. It announces an event
(services.reactions.announce), and the ONE table in services.reactions says which service functions react.
A reaction may announce further events (a publication meets an obligation; a met obligation closes the
petition that asked for it). Everything runs in the caller's transaction, so a reaction's rows and outbox
messages commit or roll back with the publication itself.

This module imports no service: the events are plain data about rows, and every service may use them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import Notice, Obligation


@dataclass(frozen=True)
class NoticePublished:
    """A notice was published for the first time (a correction is NoticeCorrected)."""

    notice: Notice
    at: datetime


@dataclass(frozen=True)
class NoticeCorrected:
    """A correction was published: `correction` replaces the notice it corrects, which is now superseded."""

    correction: Notice
    at: datetime


@dataclass(frozen=True)
class NoticeRetracted:
    notice: Notice
    reason: str
    at: datetime


@dataclass(frozen=True)
class ObligationMet:
    """An event-driven obligation (a petition's, a procedure step's...) was met by a published notice."""

    obligation: Obligation
    notice: Notice
    at: datetime


Event = NoticePublished | NoticeCorrected | NoticeRetracted | ObligationMet
Reaction = Callable[[AsyncSession, Event], Awaitable[Sequence[Event]]]
