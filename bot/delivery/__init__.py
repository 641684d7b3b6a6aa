"""Outbox rows -> Telegram within its limits: the delivery worker, rendering of rows, the posting keeper."""
