"""Commands in the middle of a notice conversation (drafting, a reviewer's reason, a retraction's reason)
leave it and then run (bot/pipeline/conversation.py). One router, right after onboarding, so the leaving happens
before whichever router owns the command.

It also declares every step that waits for a button (BUTTON_STATES): typing there gets "please tap one of the
buttons above", from this one router, before any other router could take the text for something else."""

from __future__ import annotations

from aiogram import F

from bot.pipeline.conversation import leave_on_command, wait_for_buttons
from bot.pipeline.routes import Routes
from handlers.admin import InviteFlow
from handlers.archive import Retraction
from handlers.deadlines import Registering
from handlers.drafting import Drafting
from handlers.review import Reasons
from handlers.voice.petitions import Petitioning

# The steps that show a picker and wait for a tap (a step that waits for text or a file is not here).
BUTTON_STATES = (Drafting.picking, Petitioning.item, InviteFlow.village, InviteFlow.role, Registering.kind)

router = Routes("conversations")
router.message.filter(F.chat.type == "private")

leave_on_command(router, Drafting, "conversation.draft_saved")
leave_on_command(router, Reasons, "conversation.reason_dropped")
leave_on_command(router, Retraction, "conversation.retraction_dropped")
wait_for_buttons(router, *BUTTON_STATES)
