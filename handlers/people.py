"""The directory in the bot. /name: the name a person's work is signed with on notices (services/people/names.py),
asked once right after an invite grants a role (a command sent instead leaves the question silently and runs).
/village: a village's official numbers (population, representatives), set by its staff or an admin."""

from __future__ import annotations

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards.common import NameKeep, VillageFinance, VillageNumber, VillagePick, keep_name, village_numbers
from bot.ui.replies import one_or_ask
from bot.ui.texts import UI
from models import Person, Village
from services import Session
from services.errors import DomainError
from services.people import names
from services.people import village_numbers as numbers
from services.people.roles import Role

router = Routes("people")
router.message.filter(F.chat.type == "private")


class Naming(StatesGroup):
    name = State()


class Numbers(StatesGroup):
    value = State()


async def ask(message: Message, person: Person, ui: UI, state: FSMContext) -> None:
    await state.set_state(Naming.name)
    await message.answer(ui.t("name.ask", current=person.name), reply_markup=keep_name(ui, person.name))


@router.message(Command("name"))
async def name_command(message: Message, command: CommandObject, session: Session, person: Person, ui: UI,
                       state: FSMContext) -> None:
    if not (command.args or "").strip():
        await ask(message, person, ui, state)
        return
    await _chosen(message, session, person, ui, state, command.args)


@router.message(StateFilter(Naming, Numbers), F.text.startswith("/"))
async def leave_quietly(message: Message, state: FSMContext) -> None:
    await state.clear()
    raise SkipHandler()


@router.message(Naming.name, F.text, ~F.text.startswith("/"))
async def name_typed(message: Message, session: Session, person: Person, ui: UI, state: FSMContext) -> None:
    await _chosen(message, session, person, ui, state, message.text)


@router.message(Naming.name, ~F.text.startswith("/"))
async def name_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("name.expected"))


@router.callback_query(NameKeep.filter())
async def keep_tapped(query: CallbackQuery, session: Session, person: Person, ui: UI, state: FSMContext) -> None:
    """Keeps the tapper's own current name: the callback carries nothing but the tap."""
    await names.choose_name(session, person, person.name)
    await state.clear()
    await query.answer()
    if query.message is not None:
        await query.message.answer(ui.t("name.set", name=person.name))


async def _chosen(message: Message, session: Session, person: Person, ui: UI, state: FSMContext,
                  raw: str | None) -> None:
    name = await names.choose_name(session, person, raw)  # a refused name keeps the question open
    await state.clear()
    await message.answer(ui.t("name.set", name=name))


# --- /village: population and representatives --------------------------------------------------------------

@router.message(Command("village"))
async def village_command(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime) -> None:
    villages = await numbers.villages_to_manage(session, person, runtime.settings.is_admin(person.tg_user_id))
    if not villages:
        raise DomainError("err.not_role", role="staff")
    village_id = await one_or_ask(message, ui.t("village.which"), [(v.id or 0, v.name) for v in villages],
                                  lambda i: VillagePick(village_id=i))
    if village_id is not None:
        await _show(message, session, person, ui, runtime, village_id)


@router.callback_query(VillagePick.filter())
async def village_picked(query: CallbackQuery, callback_data: VillagePick, session: Session, person: Person,
                         ui: UI, runtime: Runtime) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _show(query.message, session, person, ui, runtime, callback_data.village_id)


async def _show(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                village_id: int) -> None:
    village = await numbers.check_manager(session, person, village_id, runtime.settings.is_admin(person.tg_user_id))
    await _answer(message, session, ui, village)


async def _answer(message: Message, session: Session, ui: UI, village: Village, saved: bool = False) -> None:
    await message.answer(ui.render("village_numbers", village=village, saved=saved,
                                   finance_unstaffed=await numbers.finance_unstaffed(session, village)),
                         reply_markup=village_numbers(ui, village.id or 0, Role.FINANCE_GROUP in village.review_chain))


@router.callback_query(VillageFinance.filter())
async def finance_tapped(query: CallbackQuery, callback_data: VillageFinance, session: Session, person: Person,
                         ui: UI, runtime: Runtime) -> None:
    village = await numbers.set_finance_review(session, person, callback_data.village_id, callback_data.on,
                                               runtime.settings.is_admin(person.tg_user_id))
    await query.answer()
    if isinstance(query.message, Message):
        await _answer(query.message, session, ui, village, saved=True)


@router.callback_query(VillageNumber.filter())
async def number_tapped(query: CallbackQuery, callback_data: VillageNumber, session: Session, person: Person,
                        ui: UI, runtime: Runtime, state: FSMContext) -> None:
    field = numbers.FIELDS[callback_data.field] if 0 <= callback_data.field < len(numbers.FIELDS) else None
    if field is None:
        raise DomainError("err.stale_button")
    village = await numbers.check_manager(session, person, callback_data.village_id,
                                          runtime.settings.is_admin(person.tg_user_id))
    await state.set_state(Numbers.value)
    await state.update_data(village_id=village.id, field=field)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(ui.t(f"village.ask_{field}", village=village.name))


@router.message(Numbers.value, F.text, ~F.text.startswith("/"))
async def number_typed(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                       state: FSMContext) -> None:
    data = await state.get_data()
    village = await numbers.set_number(session, person, int(data["village_id"]), str(data["field"]), message.text,
                                       runtime.settings.is_admin(person.tg_user_id))  # refused: asked again
    await state.clear()
    await _answer(message, session, ui, village, saved=True)


@router.message(Numbers.value, ~F.text.startswith("/"))
async def number_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("village.number_expected"))
