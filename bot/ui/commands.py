"""Every command, who it is for and where it works: ONE table that the command menu Telegram shows, /help and
/start are all built from, so none of them can forget a command.

Telegram's menu cannot depend on a person's roles without one request per person, so the private menu
lists every command that is not the deployment admins' (its descriptions say whom each is for), and
each admin's own chat gets a menu with the admin commands added. Menus are registered per language:
the default language's menu also serves clients in any other language.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)

from bot.ui.texts import LANGUAGES, Texts
from services.people.roles import Role
from web.links import Links

log = logging.getLogger("cunwu.commands")

EVERYONE = "everyone"
ADMIN = "admin"  # a deployment admin (ADMIN_IDS), not a role held in a village
PRIVATE, GROUP, BOTH = frozenset({"private"}), frozenset({"group"}), frozenset({"private", "group"})


@dataclass(frozen=True)
class Command:
    name: str
    audiences: tuple[str, ...]  # EVERYONE, ADMIN or role values
    chats: frozenset[str] = PRIVATE


# In the order people see them. Handlers live in handlers/; tests/directory/test_commands_bot.py checks that every
# command registered there is listed here and the reverse.
COMMANDS: tuple[Command, ...] = (
    Command("start", (EVERYONE,), BOTH),
    Command("help", (EVERYONE,), BOTH),
    Command("join", (EVERYONE,), BOTH),
    Command("board", (EVERYONE,), BOTH),
    Command("archive", (Role.RESIDENT, Role.REPRESENTATIVE, Role.STAFF, Role.FINANCE_GROUP, Role.SECRETARY,
                        Role.SUPERVISOR)),
    Command("petition", (Role.RESIDENT,)),
    Command("draft", (Role.STAFF,)),
    Command("drafts", (Role.STAFF,)),
    Command("pending", (Role.STAFF,)),
    Command("event", (Role.STAFF,)),
    Command("matter", (Role.STAFF,)),
    Command("consult", (Role.RESIDENT, Role.REPRESENTATIVE, Role.STAFF)),
    Command("digest", (Role.STAFF,)),
    Command("questions", (Role.STAFF, Role.SUPERVISOR)),
    Command("review", (Role.FINANCE_GROUP, Role.SECRETARY, Role.SUPERVISOR)),
    Command("due", (Role.STAFF, Role.SECRETARY, Role.SUPERVISOR)),
    Command("report", (Role.INSPECTOR,)),
    Command("officialphone", (Role.STAFF, ADMIN)),
    Command("console", (Role.INSPECTOR,)),
    Command("inspections", (Role.INSPECTOR,)),
    Command("bind", (Role.STAFF, Role.INSPECTOR), GROUP),
    Command("unbind", (Role.STAFF, Role.INSPECTOR, ADMIN), GROUP),
    Command("village", (Role.STAFF, ADMIN)),
    Command("newvillage", (ADMIN,)),
    Command("invite", (ADMIN,)),
    Command("name", (EVERYONE,)),
    Command("lang", (EVERYONE,)),
    Command("cancel", (EVERYONE,)),
)
ROLE_ORDER = (Role.RESIDENT, Role.REPRESENTATIVE, Role.STAFF, Role.FINANCE_GROUP, Role.SECRETARY, Role.SUPERVISOR,
              Role.INSPECTOR)


def for_audience(audience: str, chat: str = "private") -> list[Command]:
    return [c for c in COMMANDS if audience in c.audiences and chat in c.chats]


def help_sections(roles: set[str], is_admin: bool, chat: str = "private") -> list[tuple[str, list[Command]]]:
    """(audience, its commands) for what this person holds; a command shows once, in its first section."""
    audiences = [EVERYONE, *(r.value for r in ROLE_ORDER if r.value in roles), *([ADMIN] if is_admin else [])]
    shown: set[str] = set()
    sections = []
    for audience in audiences:
        fresh = [c for c in for_audience(audience, chat) if c.name not in shown]
        shown |= {c.name for c in fresh}
        if fresh:
            sections.append((audience, fresh))
    return sections


def menu(texts: Texts, lang: str, chat: str, *, admin: bool = False) -> list[BotCommand]:
    names = [c for c in COMMANDS if chat in c.chats and (admin or c.audiences != (ADMIN,))]
    return [BotCommand(command=c.name, description=texts.plain(lang, f"cmd.{c.name}")) for c in names]


async def register_commands(bot: Bot, texts: Texts, admin_ids: list[int] | None = None) -> None:
    for lang in LANGUAGES:
        code = None if lang == texts.default_lang else lang
        await bot.set_my_commands(menu(texts, lang, "private"), scope=BotCommandScopeAllPrivateChats(),
                                  language_code=code)
        await bot.set_my_commands(menu(texts, lang, "group"), scope=BotCommandScopeAllGroupChats(),
                                  language_code=code)
        for admin_id in admin_ids or []:
            await _admin_menu(bot, texts, lang, code, admin_id)


async def _admin_menu(bot: Bot, texts: Texts, lang: str, code: str | None, admin_id: int) -> None:
    """Telegram refuses a chat scope for someone who never started the bot: they get it on a later start."""
    try:
        await bot.set_my_commands(menu(texts, lang, "private", admin=True), scope=BotCommandScopeChat(chat_id=admin_id),
                                  language_code=code)
    except TelegramAPIError as error:
        log.warning("no admin command menu for %s yet: %s", admin_id, error.message)


async def register_menu_button(bot: Bot, texts: Texts, public_base_url: str | None) -> None:
    """The menu button beside the message field opens the board as a Mini App; Telegram opens Mini Apps over
    https only, so without such an address the button stays (or goes back to) the command list."""
    if public_base_url and public_base_url.startswith("https://"):
        button: MenuButtonWebApp | MenuButtonDefault = MenuButtonWebApp(
            text=texts.plain(texts.default_lang, "board.menu"), web_app=WebAppInfo(url=Links(public_base_url).app()))
    else:
        button = MenuButtonDefault()
    try:
        await bot.set_chat_menu_button(menu_button=button)
    except TelegramAPIError as error:  # a refused button leaves the bot working, with the command list
        log.warning("the board's menu button was refused: %s", error.message)
