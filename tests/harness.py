"""Drive the production Dispatcher the way people would: updates from the fake Telegram in, the bot's
requests back into it, the delivery worker run until the outbox is empty."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.types import Update

from bot.delivery.worker import DeliveryWorker, Limits
from bot.process.runtime import Runtime
from bot.process.wiring import build_bot, build_dispatcher
from fake_telegram import FakeChat, FakeMessage, FakeSession, FakeTelegram, FakeUser

UNLIMITED = Limits(per_second=10_000, group_per_minute=10_000, private_per_second=10_000)


class Harness:
    def __init__(self, runtime: Runtime, world: FakeTelegram, limits: Limits = UNLIMITED) -> None:
        self.runtime, self.world = runtime, world
        self.bot: Bot = build_bot(runtime, session=FakeSession(world))
        self.dispatcher = build_dispatcher(runtime)
        self.worker = DeliveryWorker(runtime, self.bot, limits)
        runtime.bot_username = world.bot.username or "cunwu_bot"

    async def flush(self) -> None:
        """Handle every queued update, then deliver every due outbox row; repeat until quiet."""
        for _ in range(50):
            updates = self.world.take_updates()
            for raw in updates:
                await self.feed(raw)
            await self.worker.run_until_idle()
            if not updates and not self.world.pending_updates():
                return

    async def feed(self, raw: dict[str, Any]) -> None:
        update = Update.model_validate(raw, context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)

    # --- what people do ----------------------------------------------------------------------------

    async def say(self, user: FakeUser, text: str, chat: FakeChat | None = None) -> None:
        self.world.user_sends(user, chat or self.world.private_chat(user), text)
        await self.flush()

    async def open_link(self, user: FakeUser, payload: str) -> None:
        self.world.user_opens_deep_link(user, payload)
        await self.flush()

    async def tap(self, user: FakeUser, label: str, chat: FakeChat | None = None) -> FakeMessage:
        """Tap the newest button whose label contains `label` in the chat (private chat by default)."""
        chat = chat or self.world.private_chat(user)
        message, data = self.find_button(chat, label)
        self.world.user_taps(user, chat, message.message_id, data)
        await self.flush()
        return message

    def find_button(self, chat: FakeChat, label: str) -> tuple[FakeMessage, str]:
        for message in reversed(self.world.messages_in(chat)):
            rows = message.data.get("reply_markup", {}).get("inline_keyboard", [])
            for row in rows:
                for button in row:
                    if label in button["text"] and "callback_data" in button:
                        return message, button["callback_data"]
        raise AssertionError(f"no button {label!r} in {chat.label}: {self.texts(chat)[-3:]}")

    async def forge_tap(self, user: FakeUser, chat: FakeChat, message_id: int, data: str) -> None:
        """A callback with data no real button carries (a modified client): the server must refuse it."""
        message = self.world.messages_in(chat)[-1].data if self.world.messages_in(chat) else {
            "message_id": message_id, "date": 0, "chat": chat.to_json()}
        query_id = f"forged-{message_id}-{len(data)}-{abs(hash(data)) % 10_000}"
        self.world._open_callbacks.add(query_id)  # Telegram accepts an answer to any query it delivered
        raw = {"update_id": 999_000_000 + message_id, "callback_query": {
            "id": query_id, "from": user.to_json(), "message": message, "chat_instance": "1", "data": data}}
        await self.feed(raw)
        await self.worker.run_until_idle()

    # --- what people see ---------------------------------------------------------------------------

    def texts(self, chat: FakeChat | FakeUser) -> list[str]:
        target = self.world.private_chat(chat) if isinstance(chat, FakeUser) else chat
        return [m.text for m in self.world.messages_in(target) if m.from_bot]

    def last(self, chat: FakeChat | FakeUser) -> str:
        texts = self.texts(chat)
        return texts[-1] if texts else ""

    def alerts(self) -> list[str]:
        return [str(a.get("text", "")) for a in self.world.callback_answers.values() if a.get("text")]

    def last_alert(self) -> str:
        """The text of the newest answer to a tap ("" when the bot answered silently)."""
        answers = list(self.world.callback_answers.values())
        return str(answers[-1].get("text") or "") if answers else ""
