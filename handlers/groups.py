"""Group chats: /bind (staff bind a resident group; inspectors bind the township's filing group), /unbind,
/join (posts the join deep link), /help, and the bot's own membership changes."""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.pipeline.routes import Routes
from bot.process.runtime import Runtime
from bot.ui.keyboards import common as keyboards
from bot.ui.keyboards.common import BindTownship, BindVillage
from bot.ui.replies import one_or_ask
from bot.ui.texts import UI
from handlers import onboarding as onboarding_handlers
from models import Person
from services import Session
from services.errors import DomainError
from services.people import directory, onboarding
from services.people.roles import Role

router = Routes("groups")
GROUP_TYPES = {"group", "supergroup"}
GREETING_PAYLOAD = "hello"  # a payload of no conversation (no "_"): /start with it shows the person's home


async def _can_pin(bot: Bot, chat_id: int) -> bool:
    member = await bot.get_chat_member(chat_id, bot.id)
    return member.status == "creator" or bool(getattr(member, "can_pin_messages", False))


def _require_person(person: Person | None) -> Person:
    if person is None:  # an anonymous group admin: privileged actions need a real account
        raise DomainError("err.anonymous")
    return person


@router.message(Command("bind"), F.chat.type == "private")
async def bind_in_private(message: Message, ui: UI) -> None:
    await message.answer(ui.t("bind.private"))


@router.message(Command("bind"), F.chat.type.in_(GROUP_TYPES))
async def bind(message: Message, command: CommandObject, bot: Bot, session: Session,
               person: Person | None, ui: UI) -> None:
    person = _require_person(person)
    if (command.args or "").strip().lower() == "filing":
        await _bind_filing(message, bot, session, person, ui)
        return
    villages = await directory.villages_where(session, person.id or 0, Role.STAFF)
    if not villages:
        raise DomainError("err.not_role", role="staff")
    village_id = await one_or_ask(message, ui.t("bind.which"), [(v.id or 0, v.name) for v in villages],
                                  lambda i: BindVillage(village_id=i))
    if village_id is not None:
        await _bind_village(message, bot, session, person, ui, village_id)


@router.callback_query(BindVillage.filter())
async def bind_picked(query: CallbackQuery, callback_data: BindVillage, bot: Bot, session: Session,
                      person: Person, ui: UI) -> None:
    if query.message is None or query.message.chat.type not in GROUP_TYPES:
        raise DomainError("err.stale_button")
    await _bind_village(query.message, bot, session, person, ui, callback_data.village_id)  # type: ignore[arg-type]
    await query.answer()


async def _bind_village(message: Message, bot: Bot, session: Session, person: Person, ui: UI,
                        village_id: int) -> None:
    can_pin = await _can_pin(bot, message.chat.id)
    result = await onboarding.bind_residents_group(session, person, village_id, message.chat.id,
                                                   message.chat.title or "", can_pin)
    await message.answer(ui.render("bound", village=result.village.name if result.village else "",
                                   can_pin=can_pin, filing=False))


async def _bind_filing(message: Message, bot: Bot, session: Session, person: Person, ui: UI) -> None:
    townships = await directory.townships_where_inspector(session, person.id or 0)
    if not townships:
        raise DomainError("err.not_role", role="inspector")
    township_id = await one_or_ask(message, ui.t("bind.which_township"), [(t.id or 0, t.name) for t in townships],
                                   lambda i: BindTownship(township_id=i))
    if township_id is not None:
        await _bind_township(message, bot, session, person, ui, township_id)


@router.callback_query(BindTownship.filter())
async def bind_township_picked(query: CallbackQuery, callback_data: BindTownship, bot: Bot, session: Session,
                               person: Person, ui: UI) -> None:
    if query.message is None or query.message.chat.type not in GROUP_TYPES:
        raise DomainError("err.stale_button")
    await _bind_township(query.message, bot, session, person, ui,  # type: ignore[arg-type]
                         callback_data.township_id)
    await query.answer()


async def _bind_township(message: Message, bot: Bot, session: Session, person: Person, ui: UI,
                         township_id: int) -> None:
    can_pin = await _can_pin(bot, message.chat.id)
    result = await onboarding.bind_filing_group(session, person, township_id, message.chat.id,
                                                message.chat.title or "", can_pin)
    await message.answer(ui.render("bound", village=result.township.name if result.township else "",
                                   can_pin=can_pin, filing=True))


@router.message(Command("unbind"), F.chat.type == "private")
async def unbind_in_private(message: Message, ui: UI) -> None:
    await message.answer(ui.t("unbind.private"))


@router.message(Command("unbind"), F.chat.type.in_(GROUP_TYPES))
async def unbind(message: Message, session: Session, person: Person | None, ui: UI, runtime: Runtime) -> None:
    person = _require_person(person)
    place = await onboarding.unbind_chat(session, person, message.chat.id,
                                         runtime.settings.is_admin(person.tg_user_id))
    await message.answer(ui.t("unbind.done", place=place))


@router.message(Command("join"), F.chat.type.in_(GROUP_TYPES))
async def join_in_group(message: Message, session: Session, ui: UI, runtime: Runtime) -> None:
    village = await onboarding.village_of_chat(session, message.chat.id)
    if village is None:
        await message.answer(ui.t("join.unbound_group"))
        return
    link = runtime.deep_link(f"{onboarding.JOIN_PREFIX}{village.id}")
    await message.answer(ui.render("join_link", village=village.name),
                         reply_markup=keyboards.url_button(ui.t("btn.join"), link))


@router.message(CommandStart(), F.chat.type.in_(GROUP_TYPES))
@router.message(Command("help"), F.chat.type.in_(GROUP_TYPES))
async def help_in_group(message: Message, session: Session, person: Person | None, ui: UI,
                        runtime: Runtime) -> None:
    """What residents can do in the group, the commands that work here, and a button into the private chat."""
    village = await onboarding.village_of_chat(session, message.chat.id)
    commands = await onboarding_handlers.help_text(session, person, ui, runtime, "group")
    await message.answer(ui.render("group_help", place=village.name if village else "") + "\n\n" + commands,
                         reply_markup=_to_private(ui, runtime, village.id if village else None))


def _to_private(ui: UI, runtime: Runtime, village_id: int | None) -> InlineKeyboardMarkup:
    """A deep link into the private chat (its payload opens the person's home there), and the join link."""
    row = [InlineKeyboardButton(text=ui.plain("welcome.private_chat"), url=runtime.deep_link(GREETING_PAYLOAD))]
    if village_id is not None:
        row.append(InlineKeyboardButton(text=ui.plain("welcome.join"),
                                        url=runtime.deep_link(f"{onboarding.JOIN_PREFIX}{village_id}")))
    return InlineKeyboardMarkup(inline_keyboard=[row])


@router.my_chat_member(F.chat.type.in_(GROUP_TYPES))
async def bot_membership_changed(update: ChatMemberUpdated, bot: Bot, session: Session, ui: UI,
                                 runtime: Runtime) -> None:
    status, before = update.new_chat_member.status, update.old_chat_member.status
    if status in ("left", "kicked"):
        await onboarding.chat_lost(session, update.chat.id, f"bot {status}")
        return
    can_pin = status == "creator" or bool(getattr(update.new_chat_member, "can_pin_messages", False))
    await onboarding.chat_rights_changed(session, update.chat.id, can_pin, update.chat.title or "")
    added = before in ("left", "kicked")
    promoted = before == "member" and status in ("administrator", "creator")
    place = await onboarding.place_of_chat(session, update.chat.id) if added or promoted else None
    if (added or promoted) and not (place is not None and can_pin):  # bound and able to pin: nothing to ask
        village = await onboarding.village_of_chat(session, update.chat.id)
        await bot.send_message(update.chat.id, ui.render("group_greeting", place=place or "", can_pin=can_pin),
                               reply_markup=_to_private(ui, runtime, village.id if village else None))


@router.message(F.migrate_to_chat_id)
async def group_migrated(message: Message, session: Session) -> None:
    await onboarding.migrate_chat(session, message.chat.id, message.migrate_to_chat_id or 0)
