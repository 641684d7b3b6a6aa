"""The pages: public village boards, posters, the Mini App (and, later, the township console).

aiohttp handlers as thin as Telegram handlers: parse the request, call a service, render a Jinja2 template
(web/templates/{zh,en}, sharing web/templates/shared), answer. Public pages show only published, screened
content and need no session; anything else needs a person the server verified (Mini App init data).
web/ never imports the bot (the bot's process serves web/, not the reverse); it imports aiogram only for the
Mini App's init data check (aiogram.utils.web_app).
"""
