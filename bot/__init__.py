"""The bot's runtime. Importing it imports no aiogram: it only arranges for aiogram, whenever something first
imports it, to build its types lazily (bot/base/lazy_aiogram.py says why). Commands that never talk to
Telegram (`cunwu screen`, `calendar`, `obligations`, `admin ...`) never load aiogram at all."""

from bot.base.lazy_aiogram import install

install()
