"""The bot's runtime. Importing it first imports aiogram lazily (bot/base/lazy_aiogram.py says why)."""

from bot.base.lazy_aiogram import import_aiogram

import_aiogram()
