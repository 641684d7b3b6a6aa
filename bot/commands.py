"""The command menu Telegram shows, registered per language and per chat kind."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats

from bot.texts import LANGUAGES, Texts

PRIVATE_COMMANDS = ("start", "help", "join", "pending", "lang", "cancel")
GROUP_COMMANDS = ("join", "bind", "help")


def command_list(texts: Texts, lang: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=name, description=texts.plain(lang, f"cmd.{name}")) for name in names]


async def register_commands(bot: Bot, texts: Texts) -> None:
    for lang in LANGUAGES:
        # The default language's menu is also the one for clients in any other language.
        code = None if lang == texts.default_lang else lang
        await bot.set_my_commands(command_list(texts, lang, PRIVATE_COMMANDS),
                                  scope=BotCommandScopeAllPrivateChats(), language_code=code)
        await bot.set_my_commands(command_list(texts, lang, GROUP_COMMANDS),
                                  scope=BotCommandScopeAllGroupChats(), language_code=code)
