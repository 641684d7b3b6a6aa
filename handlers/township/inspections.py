"""Photos for an inspection record, in the bot: /inspections lists the newest records of the inspector's
townships; picking one waits for photos (each kept as Telegram's file id, the inspector re-checked for every
one); anything but a photo is told what is expected; "done" (or any command) ends it."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline import tapped
from bot.pipeline.conversation import leave_on_command
from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import inspections as kb
from bot.ui.keyboards.inspections import InspectionDone, InspectionPick
from bot.ui.texts import UI
from models import Person
from services import Session
from services.township import inspection_photos

router = Routes("inspections")
router.message.filter(F.chat.type == "private")


class InspectionPhotos(StatesGroup):
    sending = State()


leave_on_command(router, InspectionPhotos, "insp.left")


@router.message(Command("inspections"))
async def records(message: Message, session: Session, person: Person, ui: UI) -> None:
    found = await inspection_photos.recent(session, person)
    if not found:
        await message.answer(ui.t("insp.none"))
        return
    several = len({township.id for _, township, _ in found}) > 1
    await message.answer(ui.t("insp.pick"), reply_markup=kb.records(ui, found, several))


@router.callback_query(InspectionPick.filter())
async def pick(query: CallbackQuery, callback_data: InspectionPick, session: Session, person: Person, ui: UI,
               state: FSMContext) -> None:
    found = await inspection_photos.inspection_of(session, person, callback_data.inspection_id)
    await state.set_state(InspectionPhotos.sending)
    await state.update_data(inspection_id=found.id)
    await query.answer()
    await tapped.chat_message(query).answer(
        ui.t("insp.send", day=found.day.isoformat(), kind=ui.plain(f"insp.kind.{found.kind}")),
        reply_markup=kb.done(ui, found.id or 0))


@router.message(InspectionPhotos.sending, F.photo)
async def photo(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                state: FSMContext) -> None:
    sent = message.photo[-1]  # type: ignore[index]  # the largest size Telegram made
    data = await state.get_data()
    inspection_id = int(data.get("inspection_id", 0))
    added = await inspection_photos.add(session, person, inspection_id, sent.file_id, sent.file_unique_id,
                                        runtime.clock.now())
    album = message.media_group_id
    if album and data.get("album") == album:
        return  # an album arrives as a message per photo: one answer for all of it ("done" says the total)
    if album:
        await state.update_data(album=album)
    key = "insp.album" if album else "insp.saved" if added.new else "insp.again"
    await message.answer(ui.t(key, count=added.count), reply_markup=kb.done(ui, inspection_id))


@router.message(InspectionPhotos.sending)
async def not_a_photo(message: Message, ui: UI) -> None:
    key = "insp.as_file" if message.document and (message.document.mime_type or "").startswith("image/") else \
        "insp.not_photo"
    await message.answer(ui.t(key))


@router.callback_query(InspectionDone.filter())
async def done(query: CallbackQuery, callback_data: InspectionDone, session: Session, person: Person, ui: UI,
               state: FSMContext) -> None:
    found = await inspection_photos.inspection_of(session, person, callback_data.inspection_id)
    count = (await inspection_photos.counts_of(session, [found.id or 0])).get(found.id or 0, 0)
    await state.clear()
    await query.answer()
    await tapped.chat_message(query).answer(
        ui.t("insp.done", day=found.day.isoformat(), kind=ui.plain(f"insp.kind.{found.kind}"), count=count))
