"""/archive: the village's published notices by quarter; staff correct or retract one from there.
Residents open a notice's attachments through its deep link."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import notices as kb
from bot.ui.keyboards.notices import ArchiveOpen, ArchiveVillage, Manage
from bot.ui.replies import send_long
from bot.ui.texts import UI
from handlers.drafting import show_preview
from models import Person, Village
from services import Session
from services.notices import archive, drafts, publication
from services.notices.notice_view import notice_view
from services.people import directory
from services.people.roles import Role

router = Routes("archive")
router.message.filter(F.chat.type == "private")


class Retraction(StatesGroup):
    reason = State()



@router.message(Command("archive"))
async def list_archive(message: Message, command: CommandObject, session: Session, person: Person, ui: UI,
                       runtime: Runtime) -> None:
    villages = await archive.villages_to_show(session, person.id or 0)
    args = (command.args or "").strip()
    quarter = str(archive.parse_quarter(args)) if args else ""
    if len(villages) > 1:
        await message.answer(ui.t("archive.which_village"), reply_markup=kb.archive_villages(
            [(v.id or 0, v.name) for v in villages], quarter or _now_quarter(runtime, villages[0])))
        return
    await _show(message, session, person, ui, runtime, villages[0], quarter or _now_quarter(runtime, villages[0]))


@router.callback_query(ArchiveVillage.filter())
async def village_picked(query: CallbackQuery, callback_data: ArchiveVillage, session: Session, person: Person,
                         ui: UI, runtime: Runtime) -> None:
    village = await archive.village_to_show(session, person.id or 0, callback_data.village_id)
    await query.answer()
    await _show(query.message, session, person, ui, runtime, village, callback_data.quarter)  # type: ignore[arg-type]


def _now_quarter(runtime: Runtime, village: Village) -> str:
    return archive.current_quarter(runtime.policy, village, runtime.clock.now())


async def _show(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                village: Village, quarter: str) -> None:
    rows = await archive.entries(session, runtime.policy, village, quarter)
    before, after = archive.neighbour_quarters(runtime.policy, village, quarter, runtime.clock.now())
    consulted = await archive.consultations_in(session, village, quarter)
    await message.answer(ui.render("archive", village=village.name, quarter=quarter, notices=rows,
                                   consultations=consulted),
                         reply_markup=kb.archive(ui, village.id or 0, rows, before, after))
    if await directory.holds(session, person.id or 0, Role.STAFF, village.id or 0):
        for notice in rows:
            if notice["state"] == "published":
                await message.answer(ui.render("archive_line", notice=notice),
                                     reply_markup=kb.manage(ui, notice["id"]))


@router.callback_query(ArchiveOpen.filter())
async def notice_opened(query: CallbackQuery, callback_data: ArchiveOpen, session: Session, person: Person, ui: UI,
                        runtime: Runtime) -> None:
    notice = await archive.notice_to_open(session, person.id or 0, callback_data.notice_id)
    view = await notice_view(session, runtime.policy, notice)
    await query.answer()
    if isinstance(query.message, Message):
        await send_long(query.message, ui.render("notice", **view))


@router.callback_query(Manage.filter(F.action == "correct"))
async def correct(query: CallbackQuery, callback_data: Manage, session: Session, person: Person, ui: UI,
                  runtime: Runtime, state: FSMContext) -> None:
    draft = await publication.start_correction(session, person, callback_data.notice_id, runtime.clock.now())
    await query.answer()
    await query.message.answer(ui.t("archive.correcting"))  # type: ignore[union-attr]
    await show_preview(query.message, session, runtime, ui, draft.id or 0, state)  # type: ignore[arg-type]


@router.callback_query(Manage.filter(F.action == "retract"))
async def retract(query: CallbackQuery, callback_data: Manage, session: Session, person: Person, ui: UI,
                  state: FSMContext) -> None:
    notice = await drafts.get(session, callback_data.notice_id)
    await directory.require(session, person.id or 0, Role.STAFF, notice.village_id)
    await state.set_state(Retraction.reason)
    await state.update_data(notice_id=notice.id)
    await query.answer()
    await query.message.answer(ui.t("retract.ask_reason"))  # type: ignore[union-attr]


@router.message(Retraction.reason, F.text, ~F.text.startswith("/"))
async def retract_reason(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                         state: FSMContext) -> None:
    data = await state.get_data()
    done = await publication.request_retraction(session, person, int(data["notice_id"]), message.text or "",
                                                runtime.clock.now())
    await state.clear()
    await message.answer(ui.t("retract.done" if done else "retract.requested"))


@router.message(Retraction.reason, ~F.text.startswith("/"))
async def retract_reason_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("review.reason_expected"))
