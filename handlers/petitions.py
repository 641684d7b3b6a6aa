"""Petitions: /petition (title, what should be disclosed, optionally a catalog item); staff or the committee
confirm or refuse with a reason; residents sign in the private chat from the group post's link
(`s_<petition id>`), after a confirm screen, and may withdraw until the threshold is reached."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline import tapped
from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import voice as kb
from bot.ui.links import Opened, parse_id
from bot.ui.texts import UI
from models import Person
from services import Session
from services.errors import DomainError
from services.voice import petitions

router = Routes("petitions")
router.message.filter(F.chat.type == "private")


class Petitioning(StatesGroup):
    title = State()
    request = State()
    item = State()


class Refusing(StatesGroup):
    reason = State()


# --- starting a petition ----------------------------------------------------------------------------------

@router.message(Command("petition"))
async def petition(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                   state: FSMContext) -> None:
    await state.clear()
    village = await petitions.begin(session, runtime.policy, person, runtime.clock.now(),
                                    runtime.settings.petition_daily_limit)
    if not await petitions.population_gate(session, village):
        await message.answer(ui.t("village.population_unknown_resident", village=village.name))
        return
    await state.set_state(Petitioning.title)
    await state.update_data(village_id=village.id)
    await message.answer(ui.t("voice.p_ask_title", village=village.name))


@router.message(Petitioning.title, F.text, ~F.text.startswith("/"))
async def title_given(message: Message, ui: UI, state: FSMContext) -> None:
    await state.update_data(title=petitions.check_title(message.text))
    await state.set_state(Petitioning.request)
    await message.answer(ui.t("voice.p_ask_request", limit=petitions.REQUEST_MAX))


@router.message(Petitioning.request, F.text, ~F.text.startswith("/"))
async def request_given(message: Message, session: Session, ui: UI, runtime: Runtime,
                        state: FSMContext) -> None:
    request = petitions.check_request(message.text)
    data = await state.get_data()
    await state.update_data(request=request)
    official = await petitions.official_keys(session, int(data["village_id"]))
    found = petitions.findings(str(data["title"]), request, official=official)
    if found:  # the petition goes to every resident group: masked first, with one tap (or written again)
        await message.answer(ui.render("petition_findings", findings=found),
                             reply_markup=kb.petition_mask(ui, int(data["village_id"])))
        return
    await _ask_item(message, session, ui, runtime, state)


async def _ask_item(message: Message, session: Session, ui: UI, runtime: Runtime, state: FSMContext) -> None:
    village_id = int((await state.get_data())["village_id"])
    choices = await petitions.item_choices(session, runtime.policy, village_id, ui.lang)
    await state.set_state(Petitioning.item)
    await message.answer(ui.t("voice.p_ask_item"), reply_markup=kb.petition_items(ui, village_id, choices))


@router.callback_query(kb.PetitionMask.filter())
async def mask_tapped(query: CallbackQuery, callback_data: kb.PetitionMask, session: Session, ui: UI,
                      runtime: Runtime, state: FSMContext) -> None:
    data = await state.get_data()
    if await state.get_state() != Petitioning.request.state or data.get("village_id") != callback_data.village_id \
            or "request" not in data:
        raise DomainError("err.stale_button")
    official = await petitions.official_keys(session, callback_data.village_id)
    title, request = petitions.masked(str(data["title"]), official), petitions.masked(str(data["request"]), official)
    await state.update_data(title=title, request=request)
    await query.answer(ui.plain("privacy_gate.petition_masked", masked=", ".join(
        f.masked for f in petitions.findings(str(data["title"]), str(data["request"]), official=official))))
    await _ask_item(tapped.chat_message(query), session, ui, runtime, state)


@router.callback_query(kb.PetitionItem.filter())
async def item_picked(query: CallbackQuery, callback_data: kb.PetitionItem, session: Session, person: Person,
                      ui: UI, runtime: Runtime, state: FSMContext) -> None:
    data = await state.get_data()
    if await state.get_state() != Petitioning.item.state or data.get("village_id") != callback_data.village_id:
        raise DomainError("err.stale_button")
    item_id = None if callback_data.item == "_skip" else callback_data.item
    created = await petitions.create(session, runtime.policy, person, callback_data.village_id, data["title"],
                                     data["request"], item_id, runtime.clock.now(),
                                     runtime.settings.petition_daily_limit)
    await state.clear()
    await tapped.settle(query, ui, edit=lambda m: m.edit_text(ui.render("petition_created",
                                                                       **petitions.petition_view(created))))


# --- staff or committee: confirm or refuse ------------------------------------------------------------------

@router.callback_query(kb.PetitionDecide.filter(F.approve))
async def confirmed(query: CallbackQuery, callback_data: kb.PetitionDecide, session: Session, person: Person,
                    ui: UI, runtime: Runtime) -> None:
    await petitions.confirm(session, runtime.policy, person, callback_data.petition_id, runtime.clock.now(),
                            runtime.settings.petition_days)
    await query.answer(ui.t("voice.p_confirmed"), show_alert=True)


@router.callback_query(kb.PetitionDecide.filter(~F.approve))
async def refusing(query: CallbackQuery, callback_data: kb.PetitionDecide, session: Session, person: Person,
                   ui: UI, state: FSMContext) -> None:
    petition_ = await petitions.check_refusal(session, person, callback_data.petition_id)
    await state.set_state(Refusing.reason)
    await state.update_data(petition_id=petition_.id)
    await query.answer()
    await tapped.chat_message(query).answer(ui.t("voice.p_ask_reason"))


@router.message(Refusing.reason, F.text, ~F.text.startswith("/"))
async def reason_given(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                       state: FSMContext) -> None:
    petition_id = (await state.get_data()).get("petition_id")
    if not petition_id:
        raise DomainError("err.stale_button")
    await petitions.refuse(session, person, int(petition_id), message.text or "", runtime.clock.now())
    await state.clear()
    await message.answer(ui.t("voice.p_refused_done"))


# --- signing -----------------------------------------------------------------------------------------------

async def sign_link(opened: Opened) -> bool:
    """The confirm screen: nothing is signed until the person taps Sign."""
    petition_, signed = await petitions.signing_screen(opened.session, opened.person, parse_id(opened.ref),
                                                       opened.runtime.clock.now())
    view = petitions.petition_view(petition_, opened.runtime.policy.item(petition_.item_id))
    await opened.message.answer(opened.ui.render("petition_confirm", signed=signed, **view),
                                reply_markup=kb.petition_confirm(opened.ui, petition_.id or 0, signed))
    return False


@router.callback_query(kb.PetitionSign.filter())
async def sign_tapped(query: CallbackQuery, callback_data: kb.PetitionSign, session: Session, person: Person,
                      ui: UI, runtime: Runtime) -> None:
    if callback_data.action not in ("sign", "withdraw"):
        raise DomainError("err.stale_button")
    act = petitions.sign if callback_data.action == "sign" else petitions.withdraw
    petition_ = await act(session, runtime.policy, person, callback_data.petition_id, runtime.clock.now(),
                          runtime.settings.signing_hourly_limit)
    await tapped.settle(query, ui, edit=lambda m: m.edit_text(ui.render(
        "petition_signed", action=callback_data.action, **petitions.petition_view(petition_))))


# Registered last, so the handlers above match first.
@router.message(Petitioning.title, ~F.text.startswith("/"))
@router.message(Petitioning.request, ~F.text.startswith("/"))
@router.message(Refusing.reason, ~F.text.startswith("/"))
async def text_expected(message: Message, ui: UI) -> None:
    await message.answer(ui.t("voice.text_expected"))
