"""Callback factories and keyboards of /matter (四议两公开 recorded step by step). Ids only: the service
re-checks that the tapping person is staff of the matter's village, and the step's order, every time."""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.ui.keyboards.common import shorten
from bot.ui.texts import UI


class MatterRecord(CallbackData, prefix="mr1"):
    matter_id: int
    step: str  # the procedure step's code ("discuss")


class MatterDone(CallbackData, prefix="md1"):
    matter_id: int


class MatterVillage(CallbackData, prefix="mv1"):
    """Which village a new matter belongs to, for staff of several; the title waits in the conversation's data
    and the service re-checks the tapper is staff of this village."""

    village_id: int


def matter_villages(choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for village_id, name in choices:
        builder.button(text=shorten(name, 60), callback_data=MatterVillage(village_id=village_id))
    builder.adjust(2)
    return builder.as_markup()


def next_steps(ui: UI, matter_id: int, step: Any | None, decided: bool) -> InlineKeyboardMarkup | None:
    """The next deliberation to record, or (once decided) the completion."""
    builder = InlineKeyboardBuilder()
    if step is not None:
        name = step.en if ui.lang == "en" else step.zh
        builder.button(text=shorten(ui.plain("matter.btn_record", step=name), 60),
                       callback_data=MatterRecord(matter_id=matter_id, step=step.code))
    elif decided:
        builder.button(text=ui.plain("matter.btn_complete"), callback_data=MatterDone(matter_id=matter_id))
    builder.adjust(1)
    return builder.as_markup() if step is not None or decided else None


class ConsultRecord(CallbackData, prefix="cr1"):
    """Schedule or record a consultation; the service re-checks the tapper is staff of its village."""

    consultation_id: int


class ConsultFeedback(CallbackData, prefix="cb1"):
    """Adopted or not: the service re-checks staff of the village and that the consultation is recorded."""

    consultation_id: int
    adopted: bool


def consultation(ui: UI, consultation_id: int, recorded: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if recorded:
        builder.button(text=ui.plain("consult.btn_adopted"),
                       callback_data=ConsultFeedback(consultation_id=consultation_id, adopted=True))
        builder.button(text=ui.plain("consult.btn_not_adopted"),
                       callback_data=ConsultFeedback(consultation_id=consultation_id, adopted=False))
    else:
        builder.button(text=ui.plain("consult.btn_record"),
                       callback_data=ConsultRecord(consultation_id=consultation_id))
    return builder.as_markup()
