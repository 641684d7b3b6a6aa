"""The routers in matching order: the one place where that order is decided.

Specific conversations come first; `fallback` must stay last because it answers anything unmatched
(unknown commands, text where a button was expected, stale or forged buttons).
"""

from __future__ import annotations

from aiogram import Router

from handlers import (
    admin,
    archive,
    board,
    conversations,
    deadlines,
    drafting,
    drafting_actions,
    fallback,
    groups,
    matters,
    onboarding,
    people,
    review,
)
from handlers.township import desk, inspections
from handlers.voice import petitions, questions


def get_routers() -> list[Router]:
    """Fresh routers (see bot/pipeline/routes.py), in matching order."""
    return [
        admin.router.build(),
        groups.router.build(),
        onboarding.router.build(),  # before the conversations, so /cancel, /help and /start work inside them
        people.router.build(),  # a command instead of the asked-for name leaves that question quietly, then runs
        conversations.router.build(),  # then any other command leaves a conversation before it runs
        board.router.build(),  # a photo replied to a "published" message is a posting proof, in any conversation
        drafting.router.build(),
        drafting_actions.router.build(),
        review.router.build(),
        archive.router.build(),
        questions.router.build(),
        petitions.router.build(),
        inspections.router.build(),  # its photo conversation, before the desk's commands
        desk.router.build(),
        deadlines.router.build(),
        matters.router.build(),
        fallback.router.build(),
    ]
