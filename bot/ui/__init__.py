"""What people see in Telegram: texts (templates/, locales/), keyboards and callback data, commands, links, long
replies."""
