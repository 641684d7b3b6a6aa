"""Infrastructure every room uses: settings, logging, metrics, the clock, and the two aiogram import tweaks."""
