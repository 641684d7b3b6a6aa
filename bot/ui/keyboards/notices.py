"""Callback factories and keyboards of the notice conversations: drafting, privacy, review, residents."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.ui.keyboards.common import PAGE, page_buttons, shorten
from bot.ui.texts import UI


class DraftVillage(CallbackData, prefix="dv1"):
    village_id: int


class DraftClass(CallbackData, prefix="dc1"):
    village_id: int
    klass: str  # a class code, or "_adhoc"


class DraftItem(CallbackData, prefix="di1"):
    village_id: int
    item: str  # the item's code in the village's catalog, e.g. "sw.20" (':' is aiogram's separator)


class DraftPage(CallbackData, prefix="dp1"):
    village_id: int
    klass: str
    page: int


class DraftPeriod(CallbackData, prefix="dq1"):
    notice_id: int
    period: str


class DraftAction(CallbackData, prefix="da1"):
    notice_id: int
    action: str  # title | body | body_done | attach | attach_done | table | submit | save | discard |
    #              mask | ask_allow | resume | withdraw


class Decision(StrEnum):
    APPROVE = "approve"
    CHANGES = "changes"
    REJECT = "reject"


class Review(CallbackData, prefix="rv1"):
    notice_id: int
    version: int
    stage: int
    decision: Decision  # anything else does not parse, so a forged value never reaches a handler


class PrivacyAllow(CallbackData, prefix="pa2"):
    """One finding of one notice: a supervisor allows findings one by one, each with its own reason."""

    notice_id: int
    key: str  # services.notices.screening.finding_key: names the finding without carrying the number itself


class Retract(CallbackData, prefix="rt1"):
    notice_id: int


class ArchiveVillage(CallbackData, prefix="av1"):
    village_id: int
    quarter: str  # e.g. "2026Q2"; checked again by the service


class ArchiveOpen(CallbackData, prefix="ao1"):
    notice_id: int


class Manage(CallbackData, prefix="mg1"):
    notice_id: int
    action: str  # show | correct | retract


def classes(ui: UI, village_id: int, choices: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, label in choices:
        builder.button(text=label, callback_data=DraftClass(village_id=village_id, klass=code))
    builder.button(text=ui.t("draft.adhoc"), callback_data=DraftClass(village_id=village_id, klass="_adhoc"))
    builder.adjust(2)
    return builder.as_markup()


def items(ui: UI, village_id: int, klass: str, choices: list[tuple[str, str]], page: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    shown = choices[page * PAGE:(page + 1) * PAGE]
    for item_id, label in shown:
        builder.row(InlineKeyboardButton(text=shorten(label), callback_data=DraftItem(village_id=village_id,
                                                                                  item=item_id).pack()))
    nav = page_buttons(ui, page, len(choices), lambda p: DraftPage(village_id=village_id, klass=klass, page=p))
    if nav:
        builder.row(*nav)
    return builder.as_markup()


def periods(ui: UI, notice_id: int, choices: list[str], current: str = "") -> InlineKeyboardMarkup:
    """Finished periods in words, most recent first, then the current one marked as not yet ended."""
    builder = InlineKeyboardBuilder()
    for period in choices:
        words = ui.period(period)
        text = ui.plain("clerk.period_open", period=words) if period == current else words
        builder.button(text=text, callback_data=DraftPeriod(notice_id=notice_id, period=period))
    builder.adjust(2)
    return builder.as_markup()


def _action(ui: UI, notice_id: int, action: str, key: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=ui.t(key), callback_data=DraftAction(notice_id=notice_id, action=action).pack())


def preview(ui: UI, notice_id: int) -> InlineKeyboardMarkup:
    rows = [
        [_action(ui, notice_id, "title", "btn.edit_title"), _action(ui, notice_id, "body", "btn.edit_body")],
        [_action(ui, notice_id, "attach", "btn.attachments"), _action(ui, notice_id, "table", "btn.table")],
        [_action(ui, notice_id, "submit", "btn.submit")],
        [_action(ui, notice_id, "save", "btn.save"), _action(ui, notice_id, "discard", "btn.discard")],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def single(ui: UI, notice_id: int, action: str, key: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_action(ui, notice_id, action, key)]])


def privacy(ui: UI, notice_id: int) -> InlineKeyboardMarkup:
    rows = [
        [_action(ui, notice_id, "mask", "btn.mask_all")],
        [_action(ui, notice_id, "body", "btn.edit_body"), _action(ui, notice_id, "ask_allow", "btn.ask_allow")],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def review(ui: UI, notice_id: int, version: int, stage: int) -> InlineKeyboardMarkup:
    def button(decision: str, key: str) -> InlineKeyboardButton:
        data = Review(notice_id=notice_id, version=version, stage=stage, decision=decision).pack()
        return InlineKeyboardButton(text=ui.t(key), callback_data=data)

    return InlineKeyboardMarkup(inline_keyboard=[
        [button("approve", "btn.approve")],
        [button("changes", "btn.request_changes"), button("reject", "btn.reject")],
    ])


def privacy_allow(ui: UI, notice_id: int, findings: list[dict[str, str]]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(
        text=ui.t("btn.allow_one", number=number, kind=ui.t(f"kind.{f['kind']}"), masked=f["masked"]),
        callback_data=PrivacyAllow(notice_id=notice_id, key=f["key"]).pack())]
        for number, f in enumerate(findings, start=1)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def retract(ui: UI, notice_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=ui.t("btn.retract"), callback_data=Retract(notice_id=notice_id).pack())]])


def manage(ui: UI, notice_id: int) -> InlineKeyboardMarkup:
    def button(action: str, key: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=ui.t(key), callback_data=Manage(notice_id=notice_id, action=action).pack())

    return InlineKeyboardMarkup(inline_keyboard=[[button("correct", "btn.correct"), button("retract", "btn.retract")]])


def for_residents(ui: UI, question_link: str, attachments_link: str | None) -> InlineKeyboardMarkup:
    row = [InlineKeyboardButton(text=ui.t("btn.ask"), url=question_link)]
    if attachments_link:
        row.append(InlineKeyboardButton(text=ui.t("btn.attachments_view"), url=attachments_link))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def archive(ui: UI, village_id: int, notices: list[dict[str, object]], before: str,
            after: str | None) -> InlineKeyboardMarkup:
    """One button per published notice (tap: the notice itself), then the quarters before and after."""
    rows = []
    for n in notices:
        if n["state"] != "published":
            continue
        title = str(n["title"])
        label = f"📄 {n['published_on']} {shorten(title, 48)}"
        rows.append([InlineKeyboardButton(text=label, callback_data=ArchiveOpen(notice_id=int(str(n["id"]))).pack())])
    nav = [InlineKeyboardButton(text=ui.plain("archive_nav.prev", quarter=before),
                                callback_data=ArchiveVillage(village_id=village_id, quarter=before).pack())]
    if after is not None:
        nav.append(InlineKeyboardButton(text=ui.plain("archive_nav.next", quarter=after),
                                        callback_data=ArchiveVillage(village_id=village_id, quarter=after).pack()))
    rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def archive_villages(choices: list[tuple[int, str]], quarter: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for village_id, name in choices:
        builder.button(text=name, callback_data=ArchiveVillage(village_id=village_id, quarter=quarter))
    builder.adjust(2)
    return builder.as_markup()
