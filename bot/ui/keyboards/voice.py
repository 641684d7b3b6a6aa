"""Callback factories and keyboards of the residents' voice: questions, complaints and petitions.
Callback data carries ids only; every tap is re-checked against the person's role in that village."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.ui.keyboards.common import PAGE, page_buttons, shorten
from bot.ui.texts import UI


class QuestionSend(CallbackData, prefix="qs1"):
    notice_id: int  # 0: a general question, not about any notice
    complaint: bool


class QuestionTopic(CallbackData, prefix="qt1"):
    """What typed text is about: a published notice of the person's village, or 0 for a general question."""

    notice_id: int


class QuestionAct(CallbackData, prefix="qa1"):
    question_id: int
    action: str  # reply | pass | photo | explain | close


class PetitionItem(CallbackData, prefix="pi1"):
    village_id: int
    item: str  # the item's code in the village's catalog ("sw.20"; ':' is aiogram's separator), or "_skip"


class PetitionMask(CallbackData, prefix="pm1"):
    village_id: int  # the petition being written (its title and request are in the conversation's state)


class PetitionClass(CallbackData, prefix="pc1"):
    """A page of one catalog class's items on the petition screen; klass "_all" goes back to the classes."""

    village_id: int
    klass: str
    page: int = 0


class PetitionDecide(CallbackData, prefix="pd1"):
    petition_id: int
    approve: bool


class PetitionSign(CallbackData, prefix="ps1"):
    petition_id: int
    action: str  # sign | withdraw


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def question_send(ui: UI, notice_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_button(ui.t("vbtn.send_question"), QuestionSend(notice_id=notice_id, complaint=False))],
        [_button(ui.t("vbtn.send_complaint"), QuestionSend(notice_id=notice_id, complaint=True))],
    ])


def question_offer(ui: UI, latest_id: int | None, latest_title: str | None) -> InlineKeyboardMarkup:
    """About the latest notice (when there is one) or a general question (notice id 0)."""
    rows = [[_button(ui.plain("qoffer.general"), QuestionTopic(notice_id=0))]]
    if latest_id is not None and latest_title:
        rows.insert(0, [_button(ui.plain("qoffer.about_latest", title=shorten(latest_title, 32)),
                                QuestionTopic(notice_id=latest_id))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _act(ui: UI, question_id: int, action: str) -> InlineKeyboardButton:
    return _button(ui.t(f"vbtn.q_{action}"), QuestionAct(question_id=question_id, action=action))


def question_staff(ui: UI, question_id: int, photo: bool) -> InlineKeyboardMarkup:
    rows = [[_act(ui, question_id, "reply"), _act(ui, question_id, "pass")]]
    if photo:
        rows.append([_act(ui, question_id, "photo")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def question_committee(ui: UI, question_id: int, photo: bool) -> InlineKeyboardMarkup:
    rows = [[_act(ui, question_id, "explain"), _act(ui, question_id, "close")]]
    if photo:
        rows.append([_act(ui, question_id, "photo")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def petition_classes(ui: UI, village_id: int, classes: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """First a class, then its items (petition_items): a phone screen, not the whole catalog at once."""
    rows = [[_button(shorten(label), PetitionClass(village_id=village_id, klass=code))] for code, label in classes]
    rows.append([_button(ui.t("vbtn.skip_item"), PetitionItem(village_id=village_id, item="_skip"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def petition_items(ui: UI, village_id: int, klass: str, choices: list[tuple[str, str]],
                   page: int) -> InlineKeyboardMarkup:
    shown = choices[page * PAGE:(page + 1) * PAGE]
    rows = [[_button(shorten(label), PetitionItem(village_id=village_id, item=item_id))] for item_id, label in shown]
    nav = page_buttons(ui, page, len(choices), lambda p: PetitionClass(village_id=village_id, klass=klass, page=p))
    if nav:
        rows.append(nav)
    rows.append([_button(ui.t("vbtn.p_classes"), PetitionClass(village_id=village_id, klass="_all")),
                 _button(ui.t("vbtn.skip_item"), PetitionItem(village_id=village_id, item="_skip"))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def petition_mask(ui: UI, village_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(ui.t("privacy_gate.mask_petition"),
                                                          PetitionMask(village_id=village_id))]])


def petition_review(ui: UI, petition_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(ui.t("vbtn.p_confirm"), PetitionDecide(petition_id=petition_id, approve=True)),
        _button(ui.t("vbtn.p_refuse"), PetitionDecide(petition_id=petition_id, approve=False)),
    ]])


def petition_sign_link(ui: UI, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=ui.t("vbtn.p_sign_link"), url=url)]])


def petition_state_link(ui: UI, url: str) -> InlineKeyboardMarkup:
    """The starter's button: they signed by starting the petition, so it shows where it stands (and withdraws)."""
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=ui.t("vbtn.p_state_link"), url=url)]])


def petition_confirm(ui: UI, petition_id: int, signed: bool) -> InlineKeyboardMarkup:
    action = "withdraw" if signed else "sign"
    return InlineKeyboardMarkup(inline_keyboard=[[
        _button(ui.t(f"vbtn.p_{action}"), PetitionSign(petition_id=petition_id, action=action))]])
