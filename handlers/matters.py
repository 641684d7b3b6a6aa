"""/matter: 四议两公开 recorded step by step (start a matter, record each deliberation, record completion).
/consult: consultation (协商): a topic proposed, the consultation scheduled and recorded, its adoption fed back."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import matters as kb
from bot.ui.keyboards.matters import ConsultFeedback, ConsultRecord, MatterDone, MatterRecord, MatterVillage
from bot.ui.texts import UI
from models import Consultation, Matter, Person
from services import Session
from services.procedures import consultations, matters

router = Routes("matters")
router.message.filter(F.chat.type == "private")


class Recording(StatesGroup):
    form = State()
    completion = State()
    village = State()  # staff of several villages choose the new matter's village


class Consulting(StatesGroup):
    form = State()
    feedback = State()


async def _show(message: Message, session: Session, runtime: Runtime, ui: UI, matter: Matter) -> None:
    step, decided = await matters.next_of(session, runtime.policy, matter)
    view = await matters.as_view(session, runtime.policy, matter)
    await message.answer(ui.render("matter_path", **view),
                         reply_markup=kb.next_steps(ui, matter.id or 0, step, decided))


@router.message(Command("matter"))
async def matter(message: Message, command: CommandObject, session: Session, person: Person, ui: UI,
                 runtime: Runtime, state: FSMContext) -> None:
    if command.args:
        created = await matters.create_for(session, runtime.policy, person, command.args, runtime.clock.now())
        if isinstance(created, list):  # staff of several villages: which one (the title waits meanwhile)
            await state.set_state(Recording.village)
            await state.update_data(matter_title=command.args)
            await message.answer(ui.t("matter.which_village"),
                                 reply_markup=kb.matter_villages([(v.id or 0, v.name) for v in created]))
            return
        await message.answer(ui.t("matter.created", title=created.title))
        await _show(message, session, runtime, ui, created)
        return
    found = await matters.open_for(session, person)
    if not found:
        await message.answer(ui.t("matter.none"))
    for one in found:
        await _show(message, session, runtime, ui, one)


@router.callback_query(MatterVillage.filter())
async def village_picked(query: CallbackQuery, callback_data: MatterVillage, session: Session, person: Person,
                         ui: UI, state: FSMContext, runtime: Runtime) -> None:
    title = (await state.get_data()).get("matter_title") if await state.get_state() == Recording.village else None
    created = await matters.create_in(session, runtime.policy, person, callback_data.village_id, title,
                                      runtime.clock.now())
    await state.clear()
    await query.answer()
    await query.message.answer(ui.t("matter.created", title=created.title))  # type: ignore[union-attr]
    await _show(query.message, session, runtime, ui, created)  # type: ignore[arg-type]


@router.message(Recording.village)
async def village_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("matter.pick_village"))


@router.callback_query(MatterRecord.filter())
async def record(query: CallbackQuery, callback_data: MatterRecord, session: Session, person: Person, ui: UI,
                 state: FSMContext, runtime: Runtime) -> None:
    found, _, step, _ = await matters.check_step(session, runtime.policy, person, callback_data.matter_id,
                                                 callback_data.step)
    await state.set_state(Recording.form)
    await state.update_data(matter_id=found.id, step=step.code)
    await query.answer()
    today = runtime.policy.today(await matters.village_of(session, found), runtime.clock.now())
    text = ui.render("matter_form", step=step.en if ui.lang == "en" else step.zh, records=step.records,
                     today=today.isoformat())
    await query.message.answer(text)  # type: ignore[union-attr]


@router.message(Recording.form, F.text, ~F.text.startswith("/"))
async def form(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
               runtime: Runtime) -> None:
    data = await state.get_data()
    row = await matters.record_step(session, runtime.policy, person, int(data["matter_id"]), str(data["step"]),
                                    message.text or "", runtime.clock.now())
    await state.clear()
    await _show(message, session, runtime, ui, await matters.matter(session, row.matter_id))


@router.message(Recording.form)
async def form_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("matter.form_expected"))


@router.callback_query(MatterDone.filter())
async def done(query: CallbackQuery, callback_data: MatterDone, session: Session, person: Person, ui: UI,
               state: FSMContext, runtime: Runtime) -> None:
    await matters.check_decided(session, runtime.policy, person, callback_data.matter_id)
    await state.set_state(Recording.completion)
    await state.update_data(matter_id=callback_data.matter_id)
    await query.answer()
    await query.message.answer(ui.t("matter.ask_completion"))  # type: ignore[union-attr]


@router.message(Recording.completion, F.text, ~F.text.startswith("/"))
async def completion(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                     runtime: Runtime) -> None:
    data = await state.get_data()
    found, due = await matters.complete(session, runtime.policy, person, int(data["matter_id"]), message.text or "",
                                        runtime.clock.now())
    await state.clear()
    await message.answer(ui.t("matter.completed", day=str(found.completed_on), due=due.isoformat()))
    await _show(message, session, runtime, ui, found)


# --- /consult: consultation (协商) ------------------------------------------------------------------------------

async def _show_consultation(message: Message, session: Session, runtime: Runtime, ui: UI, row: Consultation) -> None:
    view = await consultations.as_view(session, runtime.policy, row)
    await message.answer(ui.render("consult_view", **view),
                         reply_markup=kb.consultation(ui, row.id or 0, row.held_on is not None))


@router.message(Command("consult"))
async def consult(message: Message, command: CommandObject, session: Session, person: Person, ui: UI,
                  runtime: Runtime) -> None:
    if command.args is not None or not await consultations.is_staff(session, person):
        row = await consultations.propose(session, person, command.args, runtime.clock.now())
        await message.answer(ui.t("consult.proposed", topic=row.topic))
        return
    found = await consultations.open_for(session, person)
    if not found:
        await message.answer(ui.t("consult.none") + "\n" + ui.t("consult.usage"))
    for row in found:
        await _show_consultation(message, session, runtime, ui, row)


@router.callback_query(ConsultRecord.filter())
async def consult_record(query: CallbackQuery, callback_data: ConsultRecord, session: Session, person: Person,
                         ui: UI, state: FSMContext, runtime: Runtime) -> None:
    row = await consultations.staff_consultation(session, person, callback_data.consultation_id)
    await state.set_state(Consulting.form)
    await state.update_data(consultation_id=row.id)
    await query.answer()
    village = await consultations.village_of(session, row)
    today = runtime.policy.today(village, runtime.clock.now())
    await query.message.answer(ui.render("consult_form", topic=row.topic, today=today.isoformat()))  # type: ignore[union-attr]


@router.message(Consulting.form, F.text, ~F.text.startswith("/"))
async def consult_form(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                       runtime: Runtime) -> None:
    data = await state.get_data()
    row = await consultations.record_form(session, runtime.policy, person, int(data["consultation_id"]),
                                          message.text or "", runtime.clock.now())
    await state.clear()
    if row.held_on is None:
        await message.answer(ui.t("consult.scheduled", topic=row.topic, day=str(row.scheduled_on)))
    else:
        view = await consultations.as_view(session, runtime.policy, row)
        await message.answer(ui.t("consult.recorded", topic=row.topic, due=str(view["due"])))
    await _show_consultation(message, session, runtime, ui, row)


@router.message(Consulting.form)
async def consult_form_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("consult.form_expected"))


@router.callback_query(ConsultFeedback.filter())
async def consult_feedback(query: CallbackQuery, callback_data: ConsultFeedback, session: Session, person: Person,
                           ui: UI, state: FSMContext) -> None:
    await consultations.check_recorded(session, person, callback_data.consultation_id)
    await state.set_state(Consulting.feedback)
    await state.update_data(consultation_id=callback_data.consultation_id, adopted=callback_data.adopted)
    await query.answer()
    what = ui.plain("consult.what_adopted" if callback_data.adopted else "consult.what_not_adopted")
    await query.message.answer(ui.t("consult.ask_feedback", what=what))  # type: ignore[union-attr]


@router.message(Consulting.feedback, F.text, ~F.text.startswith("/"))
async def consult_explained(message: Message, session: Session, person: Person, ui: UI, state: FSMContext) -> None:
    data = await state.get_data()
    row = await consultations.feed_back(session, person, int(data["consultation_id"]), bool(data["adopted"]),
                                        message.text)
    await state.clear()
    await message.answer(ui.t("consult.fed_back", topic=row.topic))
