"""The bot's runtime. Importing it first imports aiogram lazily (bot/lazy_aiogram.py says why)."""

from bot.lazy_aiogram import import_aiogram

import_aiogram()
