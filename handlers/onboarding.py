"""Private-chat onboarding: /start (with invite and join deep links), /help, /cancel, /lang, /join,
/pending and the staff's approve/decline buttons."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.pipeline import tapped
from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui import commands
from bot.ui.keyboards import common as keyboards
from bot.ui.keyboards.common import JoinDecision, LangPick
from bot.ui.links import LinkHandler, Opened, parse_id
from bot.ui.texts import UI
from handlers import people
from handlers.voice import petitions, questions
from models import Person
from services import Session
from services.errors import DomainError
from services.people import directory, onboarding

router = Routes("onboarding")
router.message.filter(F.chat.type == "private")


async def _home(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime) -> None:
    roles = await directory.memberships(session, person.id or 0)
    await message.answer(ui.render_same("start", name=person.name, roles=tuple(roles),
                                        days=runtime.settings.invite_ttl_days,
                                        is_admin=runtime.settings.is_admin(person.tg_user_id)))


@router.message(CommandStart(deep_link=True))
async def start_with_link(message: Message, command: CommandObject, session: Session, person: Person,
                          ui: UI, runtime: Runtime, state: FSMContext) -> None:
    """`/start <prefix>_<ref>`: LINKS says which conversation a payload belongs to."""
    await state.clear()
    prefix, _, ref = (command.args or "").partition("_")
    link = LINKS.get(f"{prefix}_")
    if link is not None and not ref:
        raise DomainError("err.bad_link")
    if link is None or await link(Opened(message, ref, session, person, ui, runtime, state)):
        await _home(message, session, person, ui, runtime)


async def _invite(opened: Opened) -> bool:
    outcome = await onboarding.redeem_invite(opened.session, opened.ref, opened.person, opened.runtime.clock.now())
    await opened.message.answer(opened.ui.render("invite_accepted", role=opened.ui.t(f"role.{outcome.role.value}"),
                                                 village=outcome.place))
    if not opened.person.name_chosen:  # once: the name notices print (the home screen follows)
        await people.ask(opened.message, opened.person, opened.ui, opened.state)
    return True


async def _join_link(opened: Opened) -> bool:
    await _join(opened.message, opened.session, opened.person, opened.ui, parse_id(opened.ref))
    return False


async def _join(message: Message, session: Session, person: Person, ui: UI, village_id: int) -> None:
    grant = await onboarding.request_join(session, person, village_id)
    village = await directory.village_by_id(session, grant.village_id or 0)
    await message.answer(ui.render("join_requested", village=village.name))


LINKS: dict[str, LinkHandler] = {
    onboarding.INVITE_PREFIX: _invite,
    onboarding.JOIN_PREFIX: _join_link,
    "q_": questions.ask_link,  # bot/delivery/render.py puts these two on every notice in the groups
    "a_": questions.attachments_link,
    "s_": petitions.sign_link,  # on every open petition's group post
}


@router.message(CommandStart())
async def start(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime,
                state: FSMContext) -> None:
    await state.clear()
    await _home(message, session, person, ui, runtime)


@router.message(Command("help"))
async def help_(message: Message, session: Session, person: Person, ui: UI, runtime: Runtime) -> None:
    await message.answer(await help_text(session, person, ui, runtime, "private"))


async def help_text(session: Session, person: Person | None, ui: UI, runtime: Runtime, chat: str) -> str:
    """/help lists the commands of the roles the person holds (bot/ui/commands.py), in a private chat or a group."""
    roles = await directory.active_roles(session, person.id or 0) if person is not None else set()
    is_admin = person is not None and runtime.settings.is_admin(person.tg_user_id)
    sections = tuple((audience, tuple(found)) for audience, found in commands.help_sections(roles, is_admin, chat))
    return ui.render_same("help", sections=sections, days=runtime.settings.invite_ttl_days, in_group=chat == "group")


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext, ui: UI) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    await message.answer(ui.t("cancel.done" if had_state else "cancel.nothing"))


@router.message(Command("lang"))
async def lang(message: Message, ui: UI) -> None:
    await message.answer(ui.t("lang.pick"), reply_markup=keyboards.languages(ui))


@router.callback_query(LangPick.filter())
async def lang_picked(query: CallbackQuery, callback_data: LangPick, session: Session, person: Person,
                      runtime: Runtime) -> None:
    chosen = runtime.texts.lang(callback_data.lang)
    await directory.set_language(session, person, chosen)
    ui = runtime.texts.for_lang(chosen)
    await query.answer()
    await tapped.chat_message(query).answer(ui.t("lang.set"))


@router.message(Command("join"))
async def join(message: Message, command: CommandObject, session: Session, person: Person, ui: UI) -> None:
    code = (command.args or "").strip()
    village = await directory.village_by_code(session, code) if code else None
    if village is None:
        await message.answer(ui.t("join.how"))
        return
    await _join(message, session, person, ui, village.id or 0)


@router.message(Command("pending"))
async def pending(message: Message, session: Session, person: Person, ui: UI) -> None:
    rows = await onboarding.pending_joins(session, person)
    if not rows:
        await message.answer(ui.t("pending.none"))
        return
    for grant, resident, village in rows:
        await message.answer(ui.render("join_request", name=resident.name, village=village.name),
                             reply_markup=keyboards.join_decision(ui, grant.id or 0))


@router.callback_query(JoinDecision.filter())
async def join_decided(query: CallbackQuery, callback_data: JoinDecision, session: Session,
                       person: Person, ui: UI, runtime: Runtime) -> None:
    _, resident = await onboarding.decide_join(session, person, callback_data.grant_id, callback_data.approve,
                                               runtime.clock.now())
    key = "pending.approved" if callback_data.approve else "pending.declined"
    await tapped.settle(query, ui, ui.plain(key, name=resident.name),
                        edit=lambda m: m.edit_text(ui.t(key, name=resident.name)))
