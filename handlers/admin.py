"""Deployment admins (ADMIN_IDS): create villages and issue role invites."""

from __future__ import annotations

import shlex

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.pipeline.filters import IsAdmin
from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import common as keyboards
from bot.ui.keyboards.common import InviteRole, InviteVillage
from bot.ui.texts import UI
from models import Person
from services import Session
from services.errors import DomainError
from services.people import directory, onboarding, village_numbers

router = Routes("admin")
router.message.filter(F.chat.type == "private", IsAdmin())
router.callback_query.filter(IsAdmin())


class TownshipNaming(StatesGroup):
    name = State()


class InviteFlow(StatesGroup):
    village = State()
    role = State()


@router.message(StateFilter(TownshipNaming), F.text.startswith("/"))
async def leave_township_naming(message: Message, state: FSMContext) -> None:
    """A command instead of the township's name: the question is dropped (the code stands in) and the command runs."""
    await state.clear()
    raise SkipHandler()


@router.message(Command("newvillage"))
async def new_village(message: Message, command: CommandObject, session: Session, ui: UI,
                      runtime: Runtime, state: FSMContext) -> None:
    """`/newvillage township village name [township name]`: a new township without its name is asked for it."""
    try:  # a name with spaces ("Xinglong Village") is written in quotes
        parts = shlex.split(command.args or "")
    except ValueError:  # an unclosed quote
        parts = []
    if len(parts) < 3:
        await message.answer(ui.t("admin.newvillage_usage"))
        return
    township_code, code, name = parts[:3]
    village = await directory.create_village(session, township_code, code, name,
                                             language=runtime.settings.default_language)
    township = await directory.township_of(session, village)
    if len(parts) > 3:
        await village_numbers.name_township(session, township.id or 0, " ".join(parts[3:]))
    ask = village_numbers.unnamed(township)
    if ask:
        await state.set_state(TownshipNaming.name)
        await state.update_data(township_id=township.id)
    await message.answer(ui.render("village_created", village=village, township=township, ask_township=ask))


@router.message(TownshipNaming.name, F.text, ~F.text.startswith("/"))
async def township_name_typed(message: Message, session: Session, ui: UI, state: FSMContext) -> None:
    await _township_named(message, session, ui, state, int((await state.get_data())["township_id"]), message.text)


async def _township_named(message: Message, session: Session, ui: UI, state: FSMContext, township_id: int,
                          raw: str | None) -> None:
    township = await village_numbers.name_township(session, township_id, raw)  # refused: asked again
    await state.clear()
    await message.answer(ui.t("township.named", code=township.code, name=township.name))


MAX_VILLAGE_BUTTONS = 24  # beyond this a keyboard is unusable on a phone: ask for the code instead


@router.message(Command("invite"))
async def invite(message: Message, command: CommandObject, session: Session, ui: UI,
                 state: FSMContext) -> None:
    code = (command.args or "").strip()
    if code:
        await _ask_role(message, ui, state, await onboarding.invite_target(session, code=code))
        return
    villages = await directory.all_villages(session)
    if not villages:
        await message.answer(ui.t("admin.no_villages"))
        return
    if len(villages) > MAX_VILLAGE_BUTTONS:
        await message.answer(ui.t("admin.invite_by_code"))
        return
    await state.set_state(InviteFlow.village)
    choices = [(v.id or 0, v.name) for v in villages]
    await message.answer(ui.t("admin.invite_village"),
                         reply_markup=keyboards.pick_village(choices, lambda i: InviteVillage(village_id=i)))


async def _ask_role(message: Message, ui: UI, state: FSMContext, target: onboarding.InviteTarget) -> None:
    await state.set_state(InviteFlow.role)
    await message.answer(ui.t("admin.invite_role", village=target.village.name),
                         reply_markup=keyboards.invite_roles(ui, target.village.id or 0, target.township.name))


@router.callback_query(InviteVillage.filter(), InviteFlow.village)
async def invite_village(query: CallbackQuery, callback_data: InviteVillage, session: Session, ui: UI,
                         state: FSMContext) -> None:
    target = await onboarding.invite_target(session, village_id=callback_data.village_id)
    await query.answer()
    if query.message is not None:
        await _ask_role(query.message, ui, state, target)  # type: ignore[arg-type]


@router.callback_query(InviteRole.filter(), InviteFlow.role)
async def invite_role(query: CallbackQuery, callback_data: InviteRole, session: Session, person: Person,
                      ui: UI, runtime: Runtime, state: FSMContext) -> None:
    role = keyboards.invitable_role(callback_data.index)
    if role is None:
        raise DomainError("err.stale_button")
    outcome = await onboarding.create_invite(session, callback_data.village_id, role, person.id,
                                             runtime.clock.now(), runtime.settings.invite_ttl_days)
    await state.clear()
    await query.answer()
    if query.message is not None:
        link = runtime.deep_link(f"{onboarding.INVITE_PREFIX}{outcome.invite.token}")
        await query.message.answer(ui.render("invite_created", role=ui.t(f"role.{role.value}"),
                                             village=outcome.place, link=link, expires=outcome.invite.expires_at))
