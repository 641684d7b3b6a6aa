"""Callback data factories and keyboards. Callback data carries ids only, never a role or permission:
the server re-checks who taps, every time. Prefixes are short and versioned (`jd1`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.ui.texts import LANGUAGES, UI
from services.people.roles import Role


class JoinDecision(CallbackData, prefix="jd1"):
    grant_id: int
    approve: bool


class LangPick(CallbackData, prefix="lg1"):
    lang: str


class BindVillage(CallbackData, prefix="bv1"):
    village_id: int


class BindTownship(CallbackData, prefix="bt1"):
    township_id: int


class NameKeep(CallbackData, prefix="nk1"):
    """Keep the current name for notices: no field, the tapper is the person named."""


class VillagePick(CallbackData, prefix="vp1"):
    village_id: int


class VillageNumber(CallbackData, prefix="vn1"):
    """`field` indexes services.people.village_numbers.FIELDS; the server re-checks the tapper is staff or admin."""

    village_id: int
    field: int


class VillageFinance(CallbackData, prefix="vf1"):
    """The finance group's review stage on or off; the server re-checks the tapper is staff or admin."""

    village_id: int
    on: bool


class InviteVillage(CallbackData, prefix="iv1"):
    village_id: int


class InviteRole(CallbackData, prefix="ir2"):
    """`index` into INVITABLE_ROLES: ids only; the server re-checks that the tapping person is an admin."""

    village_id: int
    index: int


PAGE = 6  # list items per page: fits a small phone screen without scrolling
LABEL = 40  # a full-width button's label, in columns (a Chinese character takes two)
_BREAKS = " 、，,；;：:·/（(-"  # a label may be cut after these


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shorten(text: str, width: int = LABEL) -> str:
    """A button label of at most `width` columns, cut at a word boundary and ending in "…" when cut: never
    half an English word, and a Chinese phrase cut at its last pause (、，) when one keeps most of it.
    Every keyboard labels its buttons through this one function."""
    text = " ".join(str(text).split())
    if _columns(text) <= width:
        return text
    cut = ""
    for ch in text:
        if _columns(cut + ch) > width - 1:
            break
        cut += ch
    rest = text[len(cut)]
    if cut and (cut[-1].isascii() and cut[-1].isalnum()) and (rest.isascii() and rest.isalnum()):
        space = cut.rfind(" ")
        cut = cut[:space] if space > 0 else cut  # one word longer than the button: cut inside it
    pause = max(cut.rfind(mark) for mark in _BREAKS)
    if pause >= len(cut) * 2 // 3 and not cut.isascii():
        cut = cut[:pause]
    return cut.rstrip(_BREAKS) + "…"


def page_buttons(ui: UI, page: int, count: int, make: Callable[[int], CallbackData],
                 size: int = PAGE) -> list[InlineKeyboardButton]:
    """The previous/next buttons of a list of `count` entries shown `size` at a time; `make(page)` names a page."""
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(text=ui.plain("btn.prev"), callback_data=make(page - 1).pack()))
    if (page + 1) * size < count:
        buttons.append(InlineKeyboardButton(text=ui.plain("btn.next"), callback_data=make(page + 1).pack()))
    return buttons


INVITABLE_ROLES = (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR, Role.REPRESENTATIVE, Role.INSPECTOR, Role.FINANCE_GROUP)


def join_decision(ui: UI, grant_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=ui.t("btn.approve"), callback_data=JoinDecision(grant_id=grant_id, approve=True))
    builder.button(text=ui.t("btn.decline"), callback_data=JoinDecision(grant_id=grant_id, approve=False))
    return builder.as_markup()


def languages(ui: UI) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for lang in LANGUAGES:
        builder.button(text=ui.t(f"lang.{lang}"), callback_data=LangPick(lang=lang))
    return builder.as_markup()


def pick_village(villages: list[tuple[int, str]], make: Callable[[int], CallbackData]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for village_id, name in villages:
        builder.button(text=name, callback_data=make(village_id))
    builder.adjust(2)
    return builder.as_markup()


def invite_roles(ui: UI, village_id: int, township: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, role in enumerate(INVITABLE_ROLES):
        label = ui.plain("role_of.inspector_in", township=township) if role is Role.INSPECTOR else \
            ui.plain(f"role.{role.value}")
        builder.button(text=label, callback_data=InviteRole(village_id=village_id, index=index))
    builder.adjust(2)
    return builder.as_markup()


def invitable_role(index: int) -> Role | None:
    return INVITABLE_ROLES[index] if 0 <= index < len(INVITABLE_ROLES) else None


def url_button(text: str, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, url=url)]])


def keep_name(ui: UI, current: str) -> InlineKeyboardMarkup | None:
    if not current:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=ui.plain("name.keep", name=shorten(current)), callback_data=NameKeep().pack())]])


def village_numbers(ui: UI, village_id: int, finance_on: bool = False) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=ui.plain("village.set_population"), callback_data=VillageNumber(village_id=village_id, field=0))
    builder.button(text=ui.plain("village.set_representatives"),
                   callback_data=VillageNumber(village_id=village_id, field=1))
    builder.button(text=ui.plain("village.finance_off" if finance_on else "village.finance_on"),
                   callback_data=VillageFinance(village_id=village_id, on=not finance_on))
    builder.adjust(2, 1)
    return builder.as_markup()
