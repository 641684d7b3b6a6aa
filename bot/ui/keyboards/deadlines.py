"""Callback factories and keyboards of the deadline conversations: nags, /event.

The separator is "|" because catalog item ids contain ":" ("jyv:sw.20"). Callbacks carry ids only;
the handlers re-check the tapping person's role in that village every time.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.ui.keyboards.common import PAGE, page_buttons, shorten
from bot.ui.texts import UI


class NagDraft(CallbackData, prefix="nd1", sep="|"):
    village_id: int
    item: str  # full item id, "" for an event obligation without one
    period: str  # "2026Q1", "long" or ""
    ob: int  # an event obligation's id, 0 for a periodic one


class NagSnooze(CallbackData, prefix="nz1", sep="|"):
    village_id: int
    item: str
    period: str
    ob: int


class NagNothing(CallbackData, prefix="nn1", sep="|"):
    """"Nothing to disclose this period" on a nag: a draft that says so, for the village's reviewers."""

    village_id: int
    item: str
    period: str


class DraftNothing(CallbackData, prefix="dn1"):
    """The same in the drafting flow, once a periodic item's period is chosen."""

    notice_id: int


class EventVillage(CallbackData, prefix="ev1"):
    village_id: int


class EventKind(CallbackData, prefix="ek1"):
    village_id: int
    kind: str  # an event kind code: "syl.resolution", "plan", ...


class EventItem(CallbackData, prefix="ei1"):
    village_id: int
    kind: str
    item: str  # the item's code in the village's catalog, e.g. "cw.15"


class EventItemPage(CallbackData, prefix="ep1"):
    village_id: int
    kind: str
    page: int


class NagPage(CallbackData, prefix="np1", sep="|"):
    """Another page of a reminder's buttons; the buttons are read back from the reminder that was sent."""

    village_id: int
    day: str  # the reminder's local day, "2026-04-03"
    page: int


NAG_ROWS = 5  # items per page of a reminder's buttons: one row each
NAG_LABEL = 18  # columns of the item's name on its row's first button


def _label(ui: UI, button: dict[str, Any]) -> str:
    # "l": the label in the reader's language (rows queued before it existed carry "zh" and "en")
    return str(button.get("l") or button.get(ui.lang) or "") or ui.plain(f"dl.rule.{button.get('r') or 'adhoc'}")


def nag(ui: UI, village_id: int, buttons: list[dict[str, Any]], day: str = "", page: int = 0
        ) -> InlineKeyboardMarkup | None:
    """One row per item the reminder names (numbered as in the message): draft it now, remind me tomorrow
    (before its due date), nothing this period (periodic items); NAG_ROWS items a page."""
    rows = []
    for index, b in enumerate(buttons[page * NAG_ROWS:(page + 1) * NAG_ROWS], start=page * NAG_ROWS + 1):
        ids = {"village_id": village_id, "item": b.get("i") or "", "period": b.get("p") or "",
               "ob": int(b.get("o") or 0)}
        number = int(b.get("n") or index)
        row = [InlineKeyboardButton(text=ui.plain("clerk.btn.draft", n=number, label=shorten(_label(ui, b), NAG_LABEL)),
                                    callback_data=NagDraft(**ids).pack())]
        if b.get("s"):
            row.append(InlineKeyboardButton(text=ui.plain("clerk.btn.snooze"), callback_data=NagSnooze(**ids).pack()))
        if ids["period"] and ids["period"] != "long" and not ids["ob"]:  # periodic obligations only
            row.append(InlineKeyboardButton(text=ui.plain("clerk.btn.nothing"), callback_data=NagNothing(
                village_id=village_id, item=ids["item"], period=ids["period"]).pack()))
        rows.append(row)
    if day:
        nav = page_buttons(ui, page, len(buttons), lambda p: NagPage(village_id=village_id, day=day, page=p),
                           NAG_ROWS)
        if nav:
            rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


class DuePage(CallbackData, prefix="dpg"):
    """A page of /due; the list is computed again at the tap (the role re-checked)."""

    page: int


def due_pages(ui: UI, page: int, pages: int) -> InlineKeyboardMarkup | None:
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(text=ui.plain("btn.prev"), callback_data=DuePage(page=page - 1).pack()))
    if page + 1 < pages:
        buttons.append(InlineKeyboardButton(text=ui.plain("clerk.btn.more", page=page + 2, pages=pages),
                                            callback_data=DuePage(page=page + 1).pack()))
    return InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None


def nothing_to_disclose(ui: UI, notice_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=ui.plain("dl.btn.nothing"), callback_data=DraftNothing(notice_id=notice_id).pack())]])


def kind_label(ui: UI, kind: Any) -> str:
    """A procedure step is labelled by its own catalog data, a profile event by the locale."""
    data = kind.en if ui.lang == "en" else kind.zh
    return str(data) if data else ui.plain(f"dl.event.{kind.code}")


def item_label(ui: UI, item: Any) -> str:
    return str(item.en if ui.lang == "en" else (item.zh_simplified or item.zh))


def event_kinds(ui: UI, village_id: int, kinds: list[Any]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind in kinds:
        builder.button(text=shorten(kind_label(ui, kind)),
                       callback_data=EventKind(village_id=village_id, kind=kind.code))
    builder.adjust(1)
    return builder.as_markup()


def event_items(ui: UI, village_id: int, kind: str, items: list[Any], page: int) -> InlineKeyboardMarkup:
    """The catalog items the event can be disclosed under, PAGE at a time."""
    builder = InlineKeyboardBuilder()
    for item in items[page * PAGE:(page + 1) * PAGE]:
        label = shorten(f"{item.number}. {item_label(ui, item)}")
        builder.row(InlineKeyboardButton(text=label, callback_data=EventItem(
            village_id=village_id, kind=kind, item=item.code).pack()))
    nav = page_buttons(ui, page, len(items), lambda p: EventItemPage(village_id=village_id, kind=kind, page=p))
    if nav:
        builder.row(*nav)
    return builder.as_markup()
