"""Staff draft a notice by conversation: catalog item, period, title, body, attachments, finance table,
preview, privacy screen, submit. The draft lives in the database from the first choice on, and the
conversation state survives a restart (see bot/pipeline/fsm_storage.py)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import notices as kb
from bot.ui.keyboards.deadlines import nothing_to_disclose
from bot.ui.keyboards.notices import DraftClass, DraftItem, DraftPage, DraftPeriod, DraftVillage
from bot.ui.replies import one_or_ask, send_long
from bot.ui.texts import UI
from models import Person
from services import Session
from services.errors import DomainError
from services.notices import drafting, drafts, finance_sheet
from services.notices.finance_table import TableError
from services.people import directory
from services.people.roles import Role

router = Routes("drafting")
router.message.filter(F.chat.type == "private")


class Drafting(StatesGroup):
    picking = State()  # the village, class, item or period picker is shown: typed text gets "tap a button"
    title = State()
    body = State()
    attach = State()
    table = State()



async def _notice_id(state: FSMContext) -> int:
    notice_id = (await state.get_data()).get("notice_id")
    if not notice_id:
        raise DomainError("err.stale_button")
    return int(notice_id)


async def show_preview(message: Message, session: Session, runtime: Runtime, ui: UI, notice_id: int,
                       state: FSMContext) -> None:
    await state.set_state(None)
    await state.update_data(notice_id=notice_id)
    view = await drafting.preview(session, runtime.policy, notice_id, runtime.clock.now())
    await send_long(message, ui.render("notice", **view), ui.render("draft_controls", **view),
                    kb.preview(ui, notice_id))


@router.message(Command("draft"))
async def draft(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                runtime: Runtime) -> None:
    await state.clear()
    villages = await directory.villages_where(session, person.id or 0, Role.STAFF)
    if not villages:
        raise DomainError("err.not_role", role=Role.STAFF.value)
    await state.set_state(Drafting.picking)
    village_id = await one_or_ask(message, ui.t("draft.which_village"), [(v.id or 0, v.name) for v in villages],
                                  lambda i: DraftVillage(village_id=i))
    if village_id is not None:
        await _classes(message, session, runtime, ui, village_id)


async def _classes(message: Message, session: Session, runtime: Runtime, ui: UI, village_id: int) -> None:
    choices = await drafting.classes(session, runtime.policy, village_id, ui.lang)
    await message.answer(ui.t("draft.pick_class"), reply_markup=kb.classes(ui, village_id, choices))


@router.callback_query(DraftVillage.filter())
async def village_picked(query: CallbackQuery, callback_data: DraftVillage, session: Session, person: Person,
                         ui: UI, runtime: Runtime) -> None:
    await directory.require(session, person.id or 0, Role.STAFF, callback_data.village_id)
    await query.answer()
    await _classes(query.message, session, runtime, ui, callback_data.village_id)  # type: ignore[arg-type]


@router.callback_query(DraftClass.filter())
async def class_picked(query: CallbackQuery, callback_data: DraftClass, session: Session, person: Person,
                       ui: UI, runtime: Runtime, state: FSMContext) -> None:
    await directory.require(session, person.id or 0, Role.STAFF, callback_data.village_id)
    await query.answer()
    if callback_data.klass == "_adhoc":
        notice = await drafts.create_draft(session, person, callback_data.village_id, None, None, runtime.clock.now())
        await ask_title(query.message, ui, state, notice.id or 0)  # type: ignore[arg-type]
        return
    await _items(query, session, runtime, ui, callback_data.village_id, callback_data.klass, 0)


@router.callback_query(DraftPage.filter())
async def page_turned(query: CallbackQuery, callback_data: DraftPage, session: Session, person: Person,
                      ui: UI, runtime: Runtime) -> None:
    await directory.require(session, person.id or 0, Role.STAFF, callback_data.village_id)
    await query.answer()
    await _items(query, session, runtime, ui, callback_data.village_id, callback_data.klass, callback_data.page)


async def _items(query: CallbackQuery, session: Session, runtime: Runtime, ui: UI, village_id: int,
                 klass: str, page: int) -> None:
    choices = await drafting.items(session, runtime.policy, village_id, klass, ui.lang)
    markup = kb.items(ui, village_id, klass, choices, page)
    if query.message is not None:
        await query.message.answer(ui.t("draft.pick_item"), reply_markup=markup)


@router.callback_query(DraftItem.filter())
async def item_picked(query: CallbackQuery, callback_data: DraftItem, session: Session, person: Person,
                      ui: UI, runtime: Runtime, state: FSMContext) -> None:
    start = await drafting.start(session, runtime.policy, person, callback_data.village_id, callback_data.item,
                                 runtime.clock.now())
    await query.answer()
    if start.periods:
        await query.message.answer(ui.t("draft.pick_period", suggested=ui.period(start.periods[0])),  # type: ignore[union-attr]
                                   reply_markup=kb.periods(ui, start.notice.id or 0, start.periods, start.current))
        return
    await ask_title(query.message, ui, state, start.notice.id or 0)  # type: ignore[arg-type]


@router.callback_query(DraftPeriod.filter())
async def period_picked(query: CallbackQuery, callback_data: DraftPeriod, session: Session, person: Person,
                        ui: UI, runtime: Runtime, state: FSMContext) -> None:
    await drafting.set_period(session, runtime.policy, person, callback_data.notice_id, callback_data.period)
    await query.answer()
    await ask_title(query.message, ui, state, callback_data.notice_id,  # type: ignore[arg-type]
                    nothing_to_disclose(ui, callback_data.notice_id))


async def ask_title(message: Message, ui: UI, state: FSMContext, notice_id: int,
                    markup: InlineKeyboardMarkup | None = None) -> None:
    """`markup`: for a periodic item, the "nothing to disclose this period" button (handlers/deadlines.py)."""
    await state.set_state(Drafting.title)
    await state.update_data(notice_id=notice_id, body_started=False)
    await message.answer(ui.t("draft.ask_title"), reply_markup=markup)


@router.message(Drafting.title, F.text, ~F.text.startswith("/"))
async def title_given(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                      runtime: Runtime) -> None:
    notice_id = await _notice_id(state)
    notice = await drafts.set_title(session, person, notice_id, message.text or "", runtime.clock.now())
    if notice.body:
        await show_preview(message, session, runtime, ui, notice_id, state)
        return
    await state.set_state(Drafting.body)
    await message.answer(ui.t("draft.ask_body"), reply_markup=kb.single(ui, notice_id, "body_done", "btn.done"))


@router.message(Drafting.body, F.text, ~F.text.startswith("/"))
async def body_given(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                     runtime: Runtime) -> None:
    notice_id = await _notice_id(state)
    data = await state.get_data()
    notice = await drafts.set_body(session, person, notice_id, message.text or "",
                                    runtime.clock.now(), append=bool(data.get("body_started")))
    await state.update_data(body_started=True)
    await message.answer(ui.t("draft.body_received", length=len(notice.body)),
                         reply_markup=kb.single(ui, notice_id, "body_done", "btn.done"))


@router.message(Drafting.attach, F.photo | F.document)
async def attachment_given(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                           runtime: Runtime) -> None:
    notice_id = await _notice_id(state)
    kind, file_id, name = drafting.file_of(message.photo, message.document)
    await drafts.add_attachment(session, person, notice_id, kind, file_id, name, runtime.clock.now())
    count = len(await drafts.attachments(session, notice_id))
    await message.answer(ui.t("draft.attachment_added", count=count),
                         reply_markup=kb.single(ui, notice_id, "attach_done", "btn.done"))


@router.message(Drafting.table, F.text, ~F.text.startswith("/"))
async def table_given(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                      runtime: Runtime) -> None:
    notice_id = await _notice_id(state)
    try:
        await drafts.set_table(session, person, notice_id, message.text or "", runtime.clock.now())
    except TableError as error:
        await message.answer(ui.render("table_errors", errors=error.errors))
        return
    await show_preview(message, session, runtime, ui, notice_id, state)


@router.message(Drafting.table, F.document)
async def table_sheet(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                      runtime: Runtime) -> None:
    """A statement uploaded as a CSV or Excel sheet: read into lines, checked like typed ones; errors name the
    sheet's rows."""
    notice_id = await _notice_id(state)
    document = message.document
    assert document is not None  # F.document
    if (document.file_size or 0) > finance_sheet.MAX_BYTES:
        raise DomainError("finance.too_big")
    content = await message.bot.download(document)  # type: ignore[union-attr]
    lines = finance_sheet.sheet_lines(document.file_name or "", content.read() if content else b"")
    try:
        await drafts.set_table(session, person, notice_id, lines, runtime.clock.now())
    except TableError as error:
        await message.answer(ui.render("table_errors", errors=error.errors))
        return
    await show_preview(message, session, runtime, ui, notice_id, state)


@router.message(Drafting.title, ~F.text.startswith("/"))
@router.message(Drafting.body, ~F.text.startswith("/"))
@router.message(Drafting.table, ~F.text.startswith("/"))
async def text_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("draft.text_expected"))


@router.message(Drafting.attach, ~F.text.startswith("/"))
async def file_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("draft.file_expected"))


@router.message(Command("drafts"))
async def my_drafts(message: Message, session: Session, person: Person, ui: UI) -> None:
    rows = await drafts.drafts_of(session, person)
    if not rows:
        await message.answer(ui.t("draft.none"))
        return
    for notice in rows:
        action = "withdraw" if notice.state == "in_review" else "resume"
        await message.answer(ui.render("draft_line", notice=notice),
                             reply_markup=kb.single(ui, notice.id or 0, action, f"btn.{action}"))
