"""Commands in the middle of a notice conversation (drafting, a reviewer's reason, a retraction's reason)
leave it and then run (bot/pipeline/conversation.py). One router, right after onboarding, so the leaving happens
before whichever router owns the command."""

from __future__ import annotations

from aiogram import F

from bot.pipeline.conversation import leave_on_command
from bot.pipeline.routes import Routes
from handlers.archive import Retraction
from handlers.drafting import Drafting
from handlers.review import Reasons

router = Routes("conversations")
router.message.filter(F.chat.type == "private")

leave_on_command(router, Drafting, "conversation.draft_saved")
leave_on_command(router, Reasons, "conversation.reason_dropped")
leave_on_command(router, Retraction, "conversation.retraction_dropped")
