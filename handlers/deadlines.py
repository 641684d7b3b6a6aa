"""/event, /due and the nag buttons ("draft it now", "remind me tomorrow")."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import deadlines as kb
from bot.ui.keyboards.deadlines import (
    DraftNothing,
    DuePage,
    EventItem,
    EventItemPage,
    EventKind,
    EventVillage,
    NagDraft,
    NagNothing,
    NagPage,
    NagSnooze,
)
from bot.ui.replies import one_or_ask, send_long
from bot.ui.texts import UI
from handlers.drafting import ask_title, show_preview
from models import Person
from services import Session
from services.deadlines import due_view, nags, obligations
from services.errors import DomainError
from services.people import directory
from services.people.roles import Role

MESSAGE_LIMIT = 4000
router = Routes("deadlines")
router.message.filter(F.chat.type == "private")


class Registering(StatesGroup):
    kind = State()  # the event's village, kind or item picker is shown
    date = State()


@router.message(Command("due"))
async def due(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime) -> None:
    found = await obligations.due_for(session, runtime.policy, person, runtime.clock.now())
    view = due_view.page(found, 0)
    text, markup = ui.render("due_list", **view), kb.due_pages(ui, 0, view["pages"])
    if len(text) <= MESSAGE_LIMIT:  # a page fits one message, its buttons under it
        await message.answer(text, reply_markup=markup)
    else:  # very many villages on the first page
        await send_long(message, text, markup=markup)


@router.callback_query(DuePage.filter())
async def due_page(query: CallbackQuery, callback_data: DuePage, session: Session, person: Person, ui: UI,
                   runtime: Runtime) -> None:
    found = await obligations.due_for(session, runtime.policy, person, runtime.clock.now())
    view = due_view.page(found, callback_data.page)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(ui.render("due_list", **view),
                                      reply_markup=kb.due_pages(ui, view["page"], view["pages"]))


@router.callback_query(NagPage.filter())
async def nag_page(query: CallbackQuery, callback_data: NagPage, session: Session, person: Person, ui: UI) -> None:
    buttons = await nags.reminder_buttons(session, person, callback_data.village_id, callback_data.day)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=kb.nag(ui, callback_data.village_id, buttons,
                                                                  callback_data.day, callback_data.page))


@router.message(Command("event"))
async def event(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                runtime: Runtime) -> None:
    await state.clear()
    villages = await directory.villages_where(session, person.id or 0, Role.STAFF)
    if not villages:
        raise DomainError("err.not_role", role=Role.STAFF.value)
    await state.set_state(Registering.kind)
    village_id = await one_or_ask(message, ui.t("dl.event_which_village"), [(v.id or 0, v.name) for v in villages],
                                  lambda i: EventVillage(village_id=i))
    if village_id is not None:
        await _kinds(message, ui, runtime, village_id)


async def _kinds(message: Message, ui: UI, runtime: Runtime, village_id: int) -> None:
    kinds = list(obligations.event_kinds(runtime.policy).values())
    await message.answer(ui.t("dl.event_pick_kind"), reply_markup=kb.event_kinds(ui, village_id, kinds))


@router.callback_query(EventVillage.filter())
async def event_village(query: CallbackQuery, callback_data: EventVillage, session: Session, person: Person,
                        ui: UI, runtime: Runtime) -> None:
    await directory.require(session, person.id or 0, Role.STAFF, callback_data.village_id)
    await query.answer()
    await _kinds(query.message, ui, runtime, callback_data.village_id)  # type: ignore[arg-type]


@router.callback_query(EventKind.filter())
async def event_kind(query: CallbackQuery, callback_data: EventKind, session: Session, person: Person, ui: UI,
                     state: FSMContext, runtime: Runtime) -> None:
    items = await obligations.event_items(session, runtime.policy, person, callback_data.village_id,
                                          callback_data.kind)
    await query.answer()
    if len(items) > 1:
        await query.message.answer(ui.t("dl.event_pick_item"),  # type: ignore[union-attr]
                                   reply_markup=kb.event_items(ui, callback_data.village_id, callback_data.kind,
                                                               items, 0))
        return
    await _ask_date(query.message, ui, state, callback_data.village_id, callback_data.kind,  # type: ignore[arg-type]
                    items[0].code if items else "")


@router.callback_query(EventItemPage.filter())
async def event_item_page(query: CallbackQuery, callback_data: EventItemPage, session: Session,
                          person: Person, ui: UI, runtime: Runtime) -> None:
    items = await obligations.event_items(session, runtime.policy, person, callback_data.village_id,
                                          callback_data.kind)
    await query.answer()
    await query.message.answer(ui.t("dl.event_pick_item"),  # type: ignore[union-attr]
                               reply_markup=kb.event_items(ui, callback_data.village_id, callback_data.kind, items,
                                                           max(0, callback_data.page)))


@router.callback_query(EventItem.filter())
async def event_item(query: CallbackQuery, callback_data: EventItem, session: Session, person: Person, ui: UI,
                     state: FSMContext, runtime: Runtime) -> None:
    items = await obligations.event_items(session, runtime.policy, person, callback_data.village_id,
                                          callback_data.kind)
    if callback_data.item not in {item.code for item in items}:
        raise DomainError("err.stale_button")
    await query.answer()
    await _ask_date(query.message, ui, state, callback_data.village_id, callback_data.kind,  # type: ignore[arg-type]
                    callback_data.item)


async def _ask_date(message: Message, ui: UI, state: FSMContext, village_id: int, kind: str, item: str) -> None:
    await state.set_state(Registering.date)
    await state.update_data(village_id=village_id, kind=kind, item=item)
    await message.answer(ui.t("dl.event_ask_date"))


@router.message(Registering.date, F.text, ~F.text.startswith("/"))
async def event_date(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                     runtime: Runtime) -> None:
    data = await state.get_data()
    done = await obligations.register_event(session, runtime.policy, person, int(data["village_id"]),
                                            str(data["kind"]), str(data.get("item") or "") or None,
                                            message.text or "", runtime.clock.now())
    await state.clear()
    await message.answer(ui.render("event_registered", label=kb.kind_label(ui, done.kind), day=done.day.isoformat(),
                                   item=kb.item_label(ui, done.item) if done.item else "",
                                   obligations=done.shown()))


@router.message(Registering.date)
async def date_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("dl.date_expected"))


@router.callback_query(NagDraft.filter())
async def draft_now(query: CallbackQuery, callback_data: NagDraft, session: Session, person: Person, ui: UI,
                    state: FSMContext, runtime: Runtime) -> None:
    notice = await obligations.draft_for(session, runtime.policy, person, callback_data.village_id,
                                         callback_data.item or None, callback_data.period or None,
                                         callback_data.ob or None, runtime.clock.now())
    await query.answer(ui.plain("dl.draft_started"))
    nothing = kb.nothing_to_disclose(ui, notice.id or 0) if notice.period else None
    await ask_title(query.message, ui, state, notice.id or 0, nothing)  # type: ignore[arg-type]


@router.callback_query(NagNothing.filter())
async def nag_nothing(query: CallbackQuery, callback_data: NagNothing, session: Session, person: Person,
                      ui: UI, state: FSMContext, runtime: Runtime) -> None:
    notice = await obligations.draft_nothing(session, runtime.policy, person, callback_data.village_id,
                                             callback_data.item, callback_data.period, runtime.clock.now())
    await query.answer()
    await show_preview(query.message, session, runtime, ui, notice.id or 0, state)  # type: ignore[arg-type]


@router.callback_query(DraftNothing.filter())
async def draft_nothing(query: CallbackQuery, callback_data: DraftNothing, session: Session, person: Person,
                        ui: UI, state: FSMContext, runtime: Runtime) -> None:
    notice = await obligations.declare_nothing(session, runtime.policy, person, callback_data.notice_id,
                                               runtime.clock.now())
    await query.answer()
    await show_preview(query.message, session, runtime, ui, notice.id or 0, state)  # type: ignore[arg-type]


@router.callback_query(NagSnooze.filter())
async def snooze(query: CallbackQuery, callback_data: NagSnooze, session: Session, person: Person, ui: UI,
                 runtime: Runtime) -> None:
    key = nags.key_of(callback_data.item, callback_data.period, callback_data.ob)
    day = await nags.snooze(session, runtime.policy, person, callback_data.village_id, key, runtime.clock.now())
    await query.answer(ui.plain("dl.snoozed", day=day.isoformat()), show_alert=False)
