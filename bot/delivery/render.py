"""Turn an outbox row's template, context and keyboard spec into what Telegram receives.

Services describe a keyboard by name and ids (they know nothing of Telegram); the builders here
make the real markup in the recipient's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from bot.process.runtime import Runtime
from bot.ui.keyboards import board as board_keyboards
from bot.ui.keyboards import common as keyboards
from bot.ui.keyboards import deadlines as deadline_keyboards
from bot.ui.keyboards import desk as desk_keyboards
from bot.ui.keyboards import notices as notice_keyboards
from bot.ui.keyboards import voice as voice_keyboards
from bot.ui.texts import UI
from web.links import Links

Builder = Callable[[UI, dict[str, Any], Runtime], InlineKeyboardMarkup | None]


def _page(runtime: Runtime, spec: dict[str, Any]) -> str | None:
    """The notice's page on the public board, when the deployment has one (PUBLIC_BASE_URL)."""
    base, ref = runtime.settings.public_base_url, spec.get("board")
    return Links(base).notice(str(ref), int(spec["notice_id"])) if base and ref else None


def _notice(ui: UI, spec: dict[str, Any], runtime: Runtime) -> InlineKeyboardMarkup | None:
    page = _page(runtime, spec)
    if spec.get("filing"):
        return InlineKeyboardMarkup(inline_keyboard=[[board_keyboards.page_button(ui, page)]]) if page else None
    notice_id = int(spec["notice_id"])
    attachments = runtime.deep_link(f"a_{notice_id}") if spec.get("attachments") else None
    markup = notice_keyboards.for_residents(ui, runtime.deep_link(f"q_{notice_id}"), attachments)
    if page:
        markup.inline_keyboard.append([board_keyboards.page_button(ui, page)])
    return markup


BUILDERS: dict[str, Builder] = {
    "join_decision": lambda ui, spec, rt: keyboards.join_decision(ui, int(spec["grant_id"])),
    "review": lambda ui, spec, rt: notice_keyboards.review(ui, int(spec["notice_id"]), int(spec["version"]),
                                                          int(spec["stage"])),
    "privacy_allow": lambda ui, spec, rt: notice_keyboards.privacy_allow(ui, int(spec["notice_id"]),
                                                                         list(spec.get("findings") or [])),
    "resume": lambda ui, spec, rt: notice_keyboards.single(ui, int(spec["notice_id"]), "resume", "btn.resume"),
    "retract": lambda ui, spec, rt: notice_keyboards.retract(ui, int(spec["notice_id"])),
    "notice": _notice,
    "published": lambda ui, spec, rt: board_keyboards.published(ui, int(spec["notice_id"]), _page(rt, spec)),
    "desk": lambda ui, spec, rt: desk_keyboards.villages(ui, [(int(v), str(n)) for v, n in spec.get("villages") or []]),
    "nag": lambda ui, spec, rt: deadline_keyboards.nag(ui, int(spec["village_id"]), list(spec.get("buttons") or []),
                                                       str(spec.get("day") or "")),
    "question_staff": lambda ui, spec, rt: voice_keyboards.question_staff(ui, int(spec["question_id"]),
                                                                          bool(spec.get("photo"))),
    "question_committee": lambda ui, spec, rt: voice_keyboards.question_committee(ui, int(spec["question_id"]),
                                                                                  bool(spec.get("photo"))),
    "petition_review": lambda ui, spec, rt: voice_keyboards.petition_review(ui, int(spec["petition_id"])),
    "petition_sign": lambda ui, spec, rt: voice_keyboards.petition_sign_link(
        ui, rt.deep_link(f"s_{int(spec['petition_id'])}")),
    "petition_state": lambda ui, spec, rt: voice_keyboards.petition_state_link(
        ui, rt.deep_link(f"s_{int(spec['petition_id'])}")),
}


def markup(ui: UI, spec: dict[str, Any] | None, runtime: Runtime) -> InlineKeyboardMarkup | None:
    if not spec:
        return None
    return BUILDERS[spec["name"]](ui, spec, runtime)
