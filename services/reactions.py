"""Who reacts to what: the ONE table of reactions to the events of services.events, and `announce`.

A use case that publishes, corrects or retracts a notice calls `announce`; it never imports the modules
that react. Adding a reaction is adding a row here (and a test that drives the event through the bot).
Reactions run in order, in the caller's transaction; the events a reaction returns are announced after
the current one (breadth first), so the order of effects is the order of this table.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from sqlmodel.ext.asyncio.session import AsyncSession

from services.deadlines import obligations
from services.events import Event, NoticeCorrected, NoticePublished, NoticeRetracted, ObligationMet, Reaction
from services.township import actions as desk
from services.voice import petitions

REACTIONS: Mapping[type[Event], tuple[Reaction, ...]] = {
    # the obligation the notice meets is met; a rectification order naming a periodic one records it
    NoticePublished: (obligations.on_published, desk.on_published),
    NoticeCorrected: (),  # a correction meets nothing new: the original already counted
    NoticeRetracted: (),
    # the signers hear, the petition closes; a rectification order naming it records it
    ObligationMet: (petitions.on_obligation_met, desk.on_obligation_met),
}


async def announce(session: AsyncSession, *events: Event) -> None:
    pending = deque(events)
    while pending:
        event = pending.popleft()
        for react in REACTIONS[type(event)]:
            pending.extend(await react(session, event))
