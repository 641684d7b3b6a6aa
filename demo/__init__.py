"""`cunwu demo`: the real bot played offline against the fake Telegram (a development tool, never imported by the
production process)."""
