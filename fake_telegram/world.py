"""FakeTelegram: one bot's view of Telegram, in memory, with the Bot API's semantics and wire shapes.

Both transports (the aiohttp server and the in-process aiogram session) call `FakeTelegram.call` with wire
parameters: form values arrive as strings (nested objects JSON-encoded), JSON bodies arrive typed, so every
parameter goes through `Params`, which accepts both.

All state is touched only from the asyncio loop the world is used on; nothing here is thread-safe.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import inspect
import json
import math
import mimetypes
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fake_telegram.html import HtmlError, parse_html, strip_text, utf16_len
from fake_telegram.people import (
    GROUP,
    PRIVATE,
    SUPERGROUP,
    FakeChat,
    FakeMessage,
    FakeUser,
    FileRecord,
    Json,
    TranscriptLine,
    Upload,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
# Telegram's default when allowed_updates is empty or never given.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FAULT_KINDS = frozenset({"429", "403", "migrate", "timeout_before", "timeout_after"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CONTENT_KEYS = ("text", "entities", "caption", "caption_entities", "photo", "document")


class ApiError(Exception):
    """A Bot API error answer; raised anywhere inside a method handler."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def reply(self) -> Reply:
        return Reply.error(self.status, self.description, self.parameters)


@dataclass
class Reply:
    """What Telegram answers: HTTP status and JSON body. `timed_out`: the client must not see it."""

    status: int
    body: Json
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.body.get("ok"))

    @classmethod
    def success(cls, result: Any) -> Reply:
        return cls(200, {"ok": True, "result": result})

    @classmethod
    def error(cls, status: int, description: str, parameters: Json | None = None) -> Reply:
        body: Json = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return cls(status, body)


@dataclass
class RequestRecord:
    method: str
    params: Json
    ok: bool
    status: int
    description: str | None
    time: float


@dataclass
class Fault:
    method: str
    chat_id: int | None
    kind: str
    times: int
    retry_after: int


@dataclass
class RateLimits:
    """Telegram's documented broadcast limits; private chats get a small burst allowance."""

    global_count: int = 30
    global_period: float = 1.0
    group_count: int = 20
    group_period: float = 60.0
    private_count: int = 1
    private_period: float = 1.0
    private_burst: int = 3


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now

    def wait(self, count: int, now: float) -> float:
        """Seconds until `count` tokens are there; a batch bigger than the bucket needs a full bucket."""
        self.refill(now)
        needed = min(count, self.capacity)
        return max(0.0, (needed - self.tokens) / self.per_second)

    def take(self, count: int) -> None:
        # A batch larger than the capacity leaves the bucket in debt, which delays later sends.
        self.tokens -= count


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


class Params:
    """Wire parameters of one request plus its uploaded files, with Telegram's lenient type coercion."""

    def __init__(self, raw: Json, files: dict[str, Upload]) -> None:
        self.raw = raw
        self.files = files

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def need_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise ApiError(400, f"Bad Request: {name} is empty")
        return value

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        return value.lower() in ("true", "1") if isinstance(value, str) else bool(value)

    def json(self, name: str) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None

    def chat_ref(self, name: str = "chat_id") -> int | str:
        value = self.raw.get(name)
        if value in (None, ""):
            raise ApiError(400, f"Bad Request: {name} is empty")
        text = str(value)
        return int(text) if re.fullmatch(r"-?\d+", text) else text


# Telegram's stand-in sender for messages that anonymous group admins send.
ANONYMOUS_ADMIN = FakeUser(1087968824, "Group", username="GroupAnonymousBot", language_code=None, is_bot=True)


class FakeTelegram:
    """The Telegram of one bot: users, chats, messages, the update queue, webhooks, limits and faults."""

    def __init__(
        self,
        token: str,
        bot_id: int = 7000000001,
        bot_username: str = "cunwu_bot",
        *,
        bot_name: str = "村务公开",
        enforce_limits: bool = False,
        limits: RateLimits | None = None,
        time_fn: Callable[[], float] = time.monotonic,
        wall_fn: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot = FakeUser(bot_id, bot_name, username=bot_username, language_code=None, is_bot=True)
        self.enforce_limits = enforce_limits
        self.limits = limits or RateLimits()
        self.time_fn = time_fn
        self.wall_fn = wall_fn
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, FileRecord] = {}
        self.requests: list[RequestRecord] = []
        self.count_429 = 0
        self.sends_per_chat: Counter[int] = Counter()
        self.callback_answers: dict[str, Json] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, Json] = {}
        self.webhook: Webhook | None = None
        self._updates: list[Json] = []
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] | None = None
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._faults: list[Fault] = []
        self._buckets: dict[object, TokenBucket] = {}
        self._open_callbacks: set[str] = set()
        self._counters: Counter[str] = Counter()

    # ------------------------------------------------------------------ transport entry point

    async def call(
        self, token: str, method: str, params: Json | None = None, files: dict[str, Upload] | None = None
    ) -> Reply:
        """Handle one Bot API request; never raises for API-level errors."""
        raw = dict(params or {})
        reply = await self._dispatch(token, method, Params(raw, dict(files or {})))
        if reply.status == 429:
            self.count_429 += 1
        self.requests.append(
            RequestRecord(method, raw, reply.ok, reply.status, reply.body.get("description"), self.time_fn())
        )
        return reply

    async def _dispatch(self, token: str, method: str, params: Params) -> Reply:
        if token != self.token:
            return Reply.error(401, "Unauthorized")
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            return Reply.error(404, "Not Found")
        fault = self._take_fault(method, params)
        try:
            if fault is not None and fault.kind != "timeout_after":
                return self._fault_reply(fault, params)
            result = handler(params)
            reply = Reply.success(await result if inspect.isawaitable(result) else result)
        except ApiError as error:
            reply = error.reply()
        # "timeout_after": the request was processed, but the client never sees the answer.
        reply.timed_out = fault is not None and fault.kind == "timeout_after"
        return reply

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self, method: str, *, chat_id: int | None = None, kind: str, times: int = 1, retry_after: int = 3
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        self._faults.append(Fault(method.lower(), chat_id, kind, times, retry_after))

    def _take_fault(self, method: str, params: Params) -> Fault | None:
        for fault in self._faults:
            if fault.method == method.lower() and self._fault_matches_chat(fault, params):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_matches_chat(fault: Fault, params: Params) -> bool:
        if fault.chat_id is None:
            return True
        return params.has("chat_id") and params.chat_ref() == fault.chat_id

    def _fault_reply(self, fault: Fault, params: Params) -> Reply:
        if fault.kind == "429":
            return _too_many(fault.retry_after).reply()
        if fault.kind == "timeout_before":
            return Reply(504, {"ok": False, "error_code": 504, "description": "Gateway Timeout"}, timed_out=True)
        chat = self._chat_by_ref(params.chat_ref())
        if fault.kind == "403":
            kicked = f"Forbidden: bot was kicked from the {chat.type} chat"
            return Reply.error(403, kicked if chat.is_group else _forbidden_text(chat))
        return _migrated(self._migrate_target(chat)).reply()

    def _migrate_target(self, chat: FakeChat) -> int:
        """A basic group really migrates; for other chats a twin supergroup is made so that a retry works."""
        if chat.migrated_to is None and chat.type == GROUP:
            self.migrate_group(chat)
        if chat.migrated_to is not None:
            return chat.migrated_to
        twin = FakeChat(self._new_id(SUPERGROUP), SUPERGROUP, title=chat.label, members=list(chat.members))
        twin.bot_status, twin.can_pin, twin.can_delete = "member", chat.can_pin, chat.can_delete
        self.chats[twin.id] = twin
        return twin.id

    # ------------------------------------------------------------------ people and chats (driver API)

    def new_user(
        self,
        first_name: str = "村民",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        user_id: int | None = None,
    ) -> FakeUser:
        user = FakeUser(user_id or self._new_id("user"), first_name, last_name, username, language_code)
        self.users[user.id] = user
        return user

    def private_chat(self, user: FakeUser | int) -> FakeChat:
        """The user's private chat with the bot (same id as the user); the bot may write once it is started."""
        user = self._user(user)
        if user.id not in self.chats:
            self.chats[user.id] = FakeChat(user.id, PRIVATE, user=user, bot_status="member")
        return self.chats[user.id]

    def new_group(
        self, title: str, members: Iterable[FakeUser] = (), *, supergroup: bool = False, username: str | None = None
    ) -> FakeChat:
        """A group the bot is not in yet (use add_bot_to_group); the first member is the creator."""
        people = list(members) or [self.new_user("群主")]
        for person in people:
            self.users.setdefault(person.id, person)
        kind = SUPERGROUP if supergroup else GROUP
        chat = FakeChat(self._new_id(kind), kind, title=title, username=username, members=people)
        self.chats[chat.id] = chat
        return chat

    def _next_count(self, kind: str) -> int:
        self._counters[kind] += 1
        return self._counters[kind]

    def _new_id(self, kind: str) -> int:
        number = self._next_count(kind)
        if kind == "user":
            return 5_000_000_000 + number
        if kind == GROUP:
            return -(4_000_000_000 + number)
        return -(1_002_000_000_000 + number)

    def _user(self, ref: FakeUser | int) -> FakeUser:
        user = self.users.get(ref.id if isinstance(ref, FakeUser) else ref)
        if user is None:
            raise KeyError(f"unknown user {ref!r}")
        return user

    def _chat(self, ref: FakeChat | int) -> FakeChat:
        chat_id = ref.id if isinstance(ref, FakeChat) else ref
        if chat_id not in self.chats and chat_id in self.users:
            return self.private_chat(chat_id)  # a user's id is their private chat's id
        chat = self.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"unknown chat {ref!r}")
        return chat

    # ------------------------------------------------------------------ what people do (driver API)

    def user_sends(
        self, user: FakeUser | int, chat: FakeChat | int, text: str, reply_to: int | None = None
    ) -> FakeMessage:
        """A person sends text; a leading /command (or /command@bot) gets its bot_command entity, as in Telegram."""
        fields: Json = {"text": text}
        if command := _COMMAND.match(text):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}]
        return self._user_posts(self._user(user), self._chat(chat), fields, text, reply_to)

    def admin_sends_anonymously(self, chat: FakeChat | int, text: str) -> FakeMessage:
        """A group admin with "remain anonymous" on: Telegram shows the group as the sender, sets `from` to
        GroupAnonymousBot and `sender_chat` to the group, so the bot cannot tell which admin it was."""
        chat = self._chat(chat)
        fields: Json = {"text": text, "sender_chat": chat.to_json()}
        if command := _COMMAND.match(text):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}]
        message = self._store_message(chat, ANONYMOUS_ADMIN, fields, text, None)
        if self._bot_reads(chat):
            self._push_update("message", message.data)
        return message

    def user_sends_photo(self, user: FakeUser | int, chat: FakeChat | int, caption: str | None = None,
                         reply_to: int | None = None, media_group_id: str | None = None) -> FakeMessage:
        """`media_group_id`: one photo of an album (Telegram sends each as its own message, sharing the id)."""
        record = self._store_file("photo", b"\xff\xd8\xff\xe0fake-jpeg", "photo.jpg")
        fields: Json = {"photo": [_photo_size(record)]}
        if media_group_id:
            fields["media_group_id"] = media_group_id
        if caption:
            fields["caption"] = caption
        return self._user_posts(self._user(user), self._chat(chat), fields, caption or "", reply_to)

    def web_app_init_data(self, user: FakeUser | int, *, auth_date: int | None = None, token: str | None = None) -> str:
        """What a Telegram client hands a Mini App it opens for `user`: the user, the time and a hash signed with
        a key derived from the bot token (HMAC-SHA256, key "WebAppData"), as the Bot API documents. `token`
        signs with another token (a forgery)."""
        person = self._user(user)
        fields = {"auth_date": str(auth_date if auth_date is not None else self._now()),
                  "query_id": f"AAF{person.id}", "user": json.dumps(person.to_json(), separators=(",", ":"),
                                                                     ensure_ascii=False)}
        check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
        secret = hmac.new(b"WebAppData", (token or self.token).encode(), hashlib.sha256).digest()
        fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
        return urlencode(fields)

    def user_sends_document(
        self,
        user: FakeUser | int,
        chat: FakeChat | int,
        file_name: str,
        caption: str | None = None,
        content: bytes = b"fake document",
    ) -> FakeMessage:
        record = self._store_file("document", content, file_name)
        fields: Json = {"document": _document(record)}
        if caption:
            fields["caption"] = caption
        return self._user_posts(self._user(user), self._chat(chat), fields, caption or "", None)

    def user_opens_deep_link(self, user: FakeUser | int, payload: str) -> FakeMessage:
        """t.me/<bot>?start=<payload>: the client sends "/start <payload>" in the private chat."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload):
            raise ValueError(f"Telegram clients do not open deep links with payload {payload!r}")
        return self.user_sends(user, self.private_chat(user), f"/start {payload}")

    def user_taps(self, user: FakeUser | int, chat: FakeChat | int, message_id: int, callback_data: str) -> str:
        """Tap an inline button; returns the callback query id. Real clients only tap buttons that exist."""
        chat, user = self._chat(chat), self._user(user)
        message = chat.messages.get(message_id)
        if message is None or message.deleted or callback_data not in message.callback_data():
            raise ValueError(f"message {message_id} in chat {chat.id} has no button with data {callback_data!r}")
        query_id = str(4_000_000_000_000_000_000 + self._next_count("callback"))
        self._open_callbacks.add(query_id)
        shown = ({"chat": chat.to_json(), "message_id": message_id, "date": 0} if message.inaccessible
                 else message.data)  # Bot API: an inaccessible message is sent with date 0 and nothing else
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": shown,
            "chat_instance": str(abs(chat.id) * 7 + 13),
            "data": callback_data,
        }
        self._push_update("callback_query", query)
        return query_id

    def make_inaccessible(self, chat: FakeChat | int, message_id: int) -> None:
        """The message still shows its buttons to the person, but Telegram no longer shows it to the bot (it
        is too old, say): taps carry an InaccessibleMessage and edits are refused."""
        self._message(self._chat(chat), message_id).inaccessible = True

    def user_deletes_message(self, chat: FakeChat | int, message_id: int) -> None:
        """Telegram does not tell bots about deletions, so no update is queued."""
        chat = self._chat(chat)
        self._drop_message(chat, self._message(chat, message_id))

    def user_unpins(self, chat: FakeChat | int, message_id: int) -> None:
        chat = self._chat(chat)
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)

    def user_blocks_bot(self, user: FakeUser | int) -> None:
        chat = self.private_chat(user)
        self._set_bot_status(chat, "kicked", chat.user or self.bot)

    def add_bot_to_group(
        self,
        chat: FakeChat | int,
        admin: bool = False,
        can_pin: bool = False,
        *,
        can_delete: bool | None = None,
        by: FakeUser | None = None,
    ) -> None:
        """Add (or re-promote) the bot; queues my_chat_member like Telegram does."""
        chat = self._chat(chat)
        rights = {"can_pin": admin and can_pin, "can_delete": admin and (True if can_delete is None else can_delete)}
        self._set_bot_status(chat, "administrator" if admin else "member", by or chat.members[0], **rights)

    def remove_bot_from_group(self, chat: FakeChat | int, by: FakeUser | None = None) -> None:
        chat = self._chat(chat)
        self._set_bot_status(chat, "kicked", by or chat.members[0])

    def migrate_group(self, chat: FakeChat | int) -> FakeChat:
        """Upgrade a group to a supergroup: new id, the old id answers 400 with migrate_to_chat_id."""
        old = self._chat(chat)
        if old.migrated_to is not None:
            return self.chats[old.migrated_to]
        new = FakeChat(self._new_id(SUPERGROUP), SUPERGROUP, title=old.title, members=list(old.members))
        new.bot_status, new.can_pin, new.can_delete = old.bot_status, old.can_pin, old.can_delete
        self.chats[new.id] = new
        old.migrated_to = new.id
        by = old.members[0]
        self._user_posts(by, old, {"migrate_to_chat_id": new.id}, "", None, service=True)
        self._user_posts(by, new, {"migrate_from_chat_id": old.id}, "", None, service=True)
        return new

    def _user_posts(
        self, user: FakeUser, chat: FakeChat, fields: Json, text: str, reply_to: int | None, *, service: bool = False
    ) -> FakeMessage:
        if chat.migrated_to is not None and not service:
            raise ValueError(f"chat {chat.id} was upgraded to {chat.migrated_to}; clients write there")
        self._user_joins(user, chat)
        if reply_to is not None:
            fields = {**fields, "reply_to_message": _quoted(self._message(chat, reply_to))}
        message = self._store_message(chat, user, fields, text, None, service=service)
        if self._bot_reads(chat):
            self._push_update("message", message.data)
        return message

    def _user_joins(self, user: FakeUser, chat: FakeChat) -> None:
        if chat.type != PRIVATE and user not in chat.members:
            chat.members.append(user)
        if chat.type == PRIVATE:
            # Writing to a bot you blocked restarts it, like pressing "Restart bot".
            if chat.bot_status == "kicked":
                self._set_bot_status(chat, "member", user)
            chat.started = True

    def _bot_reads(self, chat: FakeChat) -> bool:
        return chat.bot_status in ("member", "administrator")

    def _set_bot_status(
        self, chat: FakeChat, status: str, by: FakeUser, *, can_pin: bool = False, can_delete: bool = False
    ) -> None:
        old = self._member_json(chat, self.bot)
        chat.bot_status, chat.can_pin, chat.can_delete = status, can_pin, can_delete
        update = {
            "chat": chat.to_json(),
            "from": by.to_json(),
            "date": self._now(),
            "old_chat_member": old,
            "new_chat_member": self._member_json(chat, self.bot),
        }
        self._push_update("my_chat_member", update)

    # ------------------------------------------------------------------ update queue

    def _push_update(self, kind: str, payload: Json) -> None:
        if not self._wants(kind):
            return  # Telegram does not store updates of types the bot did not ask for
        # A snapshot: later edits must not change an update that is already queued.
        self._updates.append({"update_id": self._next_update_id, kind: copy.deepcopy(payload)})
        self._next_update_id += 1
        self._notify()

    def _wants(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _set_allowed(self, allowed: list[str] | None) -> None:
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) or None

    def _notify(self) -> None:
        """Wake every waiter (long polls, webhook delivery); each waits on the event current at its start."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def pending_updates(self) -> list[Json]:
        return list(self._updates)

    @property
    def last_update_id(self) -> int:
        """The id of the newest update created so far (delivered or not); 0 before the first."""
        return self._next_update_id - 1 if self._next_update_id > 100_000_001 else 0

    def take_updates(self) -> list[Json]:
        """For the in-process harness: hand over and confirm everything queued."""
        taken, self._updates = self._updates, []
        return taken

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]

    async def _api_getupdates(self, params: Params) -> list[Json]:
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self._set_allowed(params.json("allowed_updates"))
        self._confirm(params.integer("offset"))
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = asyncio.get_running_loop().time() + (params.integer("timeout", 0) or 0)
        while not self._updates:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or not await self._wait_change(remaining):
                break
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            if self.webhook is not None:
                raise ApiError(409, WEBHOOK_CONFLICT)
        return self._updates[:limit]

    # ------------------------------------------------------------------ webhook

    def _api_setwebhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return self._api_deletewebhook(params)
        if not url.startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self._set_allowed(params.json("allowed_updates"))
        self.webhook = Webhook(url, secret, params.integer("max_connections", 40) or 40)
        self._notify()
        return True

    def _api_deletewebhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        self._notify()
        return True

    def _api_getwebhookinfo(self, params: Params) -> Json:
        info: Json = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        if self.webhook is None:
            return info
        info.update(url=self.webhook.url, max_connections=self.webhook.max_connections)
        if self.webhook.last_error_date is not None:
            info.update(
                last_error_date=self.webhook.last_error_date, last_error_message=self.webhook.last_error_message
            )
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def next_webhook_update(self, in_flight: Collection[int] = ()) -> tuple[Webhook, Json]:
        """For the delivery task: wait until a webhook is set, fewer than its max_connections deliveries are
        `in_flight`, and an update that is not in flight is queued; the oldest such comes first."""
        while True:
            hook = self.webhook
            if hook is not None and len(in_flight) < hook.max_connections:
                waiting = next((u for u in self._updates if u["update_id"] not in in_flight), None)
                if waiting is not None:
                    return hook, waiting
            await self._wait_change(3600)

    def webhook_slot_freed(self) -> None:
        """A delivery ended without confirming its update: wake the delivery task to send it (or another)."""
        self._notify()

    def webhook_delivered(self, update_id: int) -> None:
        self._updates = [update for update in self._updates if update["update_id"] != update_id]

    def webhook_failed(self, message: str) -> None:
        if self.webhook is not None:
            self.webhook.last_error_date = self._now()
            self.webhook.last_error_message = message

    # ------------------------------------------------------------------ bot account methods

    def _api_getme(self, params: Params) -> Json:
        return {
            **self.bot.to_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logout(self, params: Params) -> bool:
        return True

    def _api_close(self, params: Params) -> bool:
        return True

    def _api_setmycommands(self, params: Params) -> bool:
        commands = params.json("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is empty")
        key = _scope_key(params)
        self.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _api_getmycommands(self, params: Params) -> list[Json]:
        return self.commands.get(_scope_key(params), [])

    def _api_deletemycommands(self, params: Params) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    def _api_setmydescription(self, params: Params) -> bool:
        return self._set_description(params, "description", 512)

    def _api_setmyshortdescription(self, params: Params) -> bool:
        return self._set_description(params, "short_description", 120)

    def _set_description(self, params: Params, name: str, limit: int) -> bool:
        text = params.text(name) or ""
        if len(text) > limit:
            raise ApiError(400, f"Bad Request: {name} is too long")
        self.descriptions[(name, params.text("language_code") or "")] = text
        return True

    def _api_setchatmenubutton(self, params: Params) -> bool:
        chat_id = params.integer("chat_id")
        self.menu_buttons[chat_id] = params.json("menu_button") or {"type": "default"}
        return True

    # ------------------------------------------------------------------ sending

    def _api_sendmessage(self, params: Params) -> Json:
        chat = self._writable_chat(params)
        text, entities, raw = self._render(
            params.text("text") or "", params.text("parse_mode"), params.json("entities")
        )
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        fields: Json = {"text": text, **({"entities": entities} if entities else {})}
        return self._bot_posts(chat, params, fields, text, raw).data

    def _api_sendphoto(self, params: Params) -> Json:
        chat = self._writable_chat(params)
        record = self._input_file(params, "photo", params.text("photo"))
        return self._send_media(chat, params, {"photo": [_photo_size(record)]}).data

    def _api_senddocument(self, params: Params) -> Json:
        chat = self._writable_chat(params)
        record = self._input_file(params, "document", params.text("document"))
        return self._send_media(chat, params, {"document": _document(record)}).data

    def _send_media(self, chat: FakeChat, params: Params, fields: Json) -> FakeMessage:
        caption = self._caption_fields(
            params.text("caption"), params.text("parse_mode"), params.json("caption_entities")
        )
        return self._bot_posts(chat, params, {**fields, **caption[0]}, caption[1], caption[2])

    def _caption_fields(self, caption: str | None, mode: str | None, entities: Any) -> tuple[Json, str, str | None]:
        text, found, raw = self._render(caption or "", mode, entities)
        if utf16_len(text) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        fields: Json = {"caption": text} if text else {}
        if found:
            fields["caption_entities"] = found
        return fields, text, raw

    def _api_sendmediagroup(self, params: Params) -> list[Json]:
        chat = self._writable_chat(params)
        media = params.json("media") or []
        if not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: media group must include 2-10 items")
        group_id = str(10_000_000_000_000 + self._next_count("media_group"))
        items = [self._media_item(params, item) for item in media]
        items = [({**fields, "media_group_id": group_id}, text, raw) for fields, text, raw in items]
        return [message.data for message in self._bot_posts_many(chat, params, items)]

    def _media_item(self, params: Params, item: Json) -> tuple[Json, str, str | None]:
        kind = "photo" if item.get("type") == "photo" else "document"
        record = self._input_file(params, kind, item.get("media"))
        fields: Json = {"photo": [_photo_size(record)]} if kind == "photo" else {"document": _document(record)}
        caption, text, raw = self._caption_fields(
            item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
        )
        return {**fields, **caption}, text, raw

    def _api_copymessage(self, params: Params) -> Json:
        chat = self._writable_chat(params)
        source = self._source_message(params, "copy")
        fields = {key: value for key, value in source.data.items() if key in _CONTENT_KEYS}
        text = source.text
        if params.has("caption") and "text" not in fields:
            caption, text, _ = self._caption_fields(
                params.text("caption"), params.text("parse_mode"), params.json("caption_entities")
            )
            fields = {key: value for key, value in fields.items() if not key.startswith("caption")} | caption
        return {"message_id": self._bot_posts(chat, params, fields, text, source.html).message_id}

    def _api_forwardmessage(self, params: Params) -> Json:
        chat = self._writable_chat(params)
        source = self._source_message(params, "forward")
        fields = {key: value for key, value in source.data.items() if key in _CONTENT_KEYS}
        origin = {"type": "user", "sender_user": source.data["from"], "date": source.data["date"]}
        return self._bot_posts(chat, params, {**fields, "forward_origin": origin}, source.text, source.html).data

    def _source_message(self, params: Params, verb: str) -> FakeMessage:
        chat = self._known_chat(params.chat_ref("from_chat_id"))
        message = chat.messages.get(params.need_integer("message_id"))
        if message is None or message.deleted or message.service:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        return message

    def _bot_posts(self, chat: FakeChat, params: Params, fields: Json, text: str, raw: str | None) -> FakeMessage:
        return self._bot_posts_many(chat, params, [(fields, text, raw)])[0]

    def _bot_posts_many(
        self, chat: FakeChat, params: Params, items: list[tuple[Json, str, str | None]]
    ) -> list[FakeMessage]:
        """Validate everything first so that a rejected request spends no rate-limit tokens."""
        markup = self._inline_markup(params)
        reply = self._reply_target(chat, params)
        extra: Json = {"reply_markup": markup} if markup else {}
        if reply is not None:
            extra["reply_to_message"] = _quoted(reply)
        self._spend(chat, len(items))
        self.sends_per_chat[chat.id] += len(items)
        return [self._store_message(chat, self.bot, {**fields, **extra}, text, raw) for fields, text, raw in items]

    def _reply_target(self, chat: FakeChat, params: Params) -> FakeMessage | None:
        reply = params.json("reply_parameters") or {}
        message_id = reply.get("message_id") or params.integer("reply_to_message_id")
        if not message_id:
            return None
        message = chat.messages.get(int(message_id))
        if message is not None and not message.deleted:
            return message
        if reply.get("allow_sending_without_reply") or params.flag("allow_sending_without_reply"):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _store_message(
        self, chat: FakeChat, sender: FakeUser, fields: Json, text: str, raw: str | None, *, service: bool = False
    ) -> FakeMessage:
        message_id = chat.take_message_id()
        data = {"message_id": message_id, "from": sender.to_json(), "chat": chat.to_json(), "date": self._now()}
        data.update(fields)
        message = FakeMessage(chat.id, message_id, data, text, raw, sender.is_bot, service=service)
        chat.messages[message_id] = message
        return message

    def _render(self, source: str, mode: str | None, entities: Any) -> tuple[str, list[Json], str | None]:
        """Plain text and entities as Telegram stores them, plus the raw HTML that was sent."""
        if mode and mode.lower() == "html":
            try:
                text, found = parse_html(source)
            except HtmlError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        elif mode and mode.lower() not in ("markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            # Markdown is not modelled: the text is kept as sent.
            text, found = source, list(entities or [])
        text, found = strip_text(text, found)
        return text, found, source if mode else None

    def _inline_markup(self, params: Params) -> Json | None:
        """Only inline keyboards appear in Message.reply_markup; reply keyboards are accepted and not shown."""
        markup = params.json("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        for button in (button for row in rows for button in row):
            _check_button(button)
        return {"inline_keyboard": rows} if any(rows) else None

    # ------------------------------------------------------------------ rate limits

    def _spend(self, chat: FakeChat, count: int) -> None:
        if not self.enforce_limits:
            return
        now = self.time_fn()
        buckets = [self._bucket("global", self.limits.global_count, self.limits.global_period)]
        if chat.is_group:
            buckets.append(self._bucket(chat.id, self.limits.group_count, self.limits.group_period))
        else:
            rate = self.limits.private_count / self.limits.private_period
            buckets.append(self._bucket(chat.id, self.limits.private_burst, self.limits.private_burst / rate))
        wait = max(bucket.wait(count, now) for bucket in buckets)
        if wait > 0:
            raise _too_many(max(1, math.ceil(round(wait, 6))))  # round: 2.0000000000000004 s is 2 s
        for bucket in buckets:
            bucket.take(count)

    def _bucket(self, key: object, capacity: int, period: float) -> TokenBucket:
        """A bucket holding `capacity` tokens that refills completely in `period` seconds."""
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(capacity, capacity / period, capacity, self.time_fn())
        return self._buckets[key]

    # ------------------------------------------------------------------ editing, deleting, pinning

    def _api_editmessagetext(self, params: Params) -> Json:
        message = self._editable(params)
        if "text" not in message.data:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities, raw = self._render(
            params.text("text") or "", params.text("parse_mode"), params.json("entities")
        )
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        content: Json = {"text": text, **({"entities": entities} if entities else {})}
        return self._apply_edit(message, params, content, ("text", "entities"), text, raw)

    def _api_editmessagecaption(self, params: Params) -> Json:
        message = self._editable(params)
        if "text" in message.data:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        content, text, raw = self._caption_fields(
            params.text("caption"), params.text("parse_mode"), params.json("caption_entities")
        )
        return self._apply_edit(message, params, content, ("caption", "caption_entities"), text, raw)

    def _api_editmessagereplymarkup(self, params: Params) -> Json:
        message = self._editable(params)
        return self._apply_edit(message, params, {}, (), message.text, message.html)

    def _apply_edit(
        self, message: FakeMessage, params: Params, content: Json, keys: tuple[str, ...], text: str, raw: str | None
    ) -> Json:
        """Telegram rejects edits that change nothing; an edit without reply_markup removes the keyboard."""
        markup = self._inline_markup(params)
        old = {key: message.data[key] for key in keys if key in message.data}
        if old == content and message.data.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        self._spend(self.chats[message.chat_id], 1)
        for key in (*keys, "reply_markup"):
            message.data.pop(key, None)
        message.data.update(content, **({"reply_markup": markup} if markup else {}))
        message.data["edit_date"] = self._now()
        message.text, message.html, message.edited = text, raw, True
        return message.data

    def _editable(self, params: Params) -> FakeMessage:
        if params.has("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by this fake")
        chat = self._member_chat(params)
        message = chat.messages.get(params.need_integer("message_id"))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not message.from_bot or message.service or message.inaccessible:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _api_deletemessage(self, params: Params) -> bool:
        chat = self._member_chat(params)
        message = chat.messages.get(params.need_integer("message_id"))
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to delete not found")
        if chat.is_group and not message.from_bot and not chat.can_delete:
            raise ApiError(400, "Bad Request: message can't be deleted")
        self._drop_message(chat, message)
        return True

    def _drop_message(self, chat: FakeChat, message: FakeMessage) -> None:
        message.deleted = True
        if message.message_id in chat.pinned:
            chat.pinned.remove(message.message_id)  # deleting a pinned message unpins it

    def _api_pinchatmessage(self, params: Params) -> bool:
        chat = self._pin_chat(params)
        message = chat.messages.get(params.need_integer("message_id"))
        if message is None or message.deleted or message.service:
            raise ApiError(400, "Bad Request: message to pin not found")
        self._spend(chat, 1)  # pins, unpins and edits count against the limits as messages do
        if chat.pinned[-1:] == [message.message_id]:
            return True
        if message.message_id in chat.pinned:
            chat.pinned.remove(message.message_id)
        chat.pinned.append(message.message_id)
        # The "pinned a message" service line is the bot's own action, so no update is queued for it.
        self._store_message(chat, self.bot, {"pinned_message": _quoted(message)}, "", None, service=True)
        return True

    def _api_unpinchatmessage(self, params: Params) -> bool:
        chat = self._pin_chat(params)
        message_id = params.integer("message_id")
        self._spend(chat, 1)
        if message_id is None and chat.pinned:
            message_id = chat.pinned[-1]
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        return True

    def _api_unpinallchatmessages(self, params: Params) -> bool:
        self._pin_chat(params).pinned.clear()
        return True

    def _pin_chat(self, params: Params) -> FakeChat:
        chat = self._member_chat(params)
        if chat.is_group and not (chat.bot_status == "administrator" and chat.can_pin):
            raise ApiError(400, "Bad Request: not enough rights to manage pinned messages in the chat")
        return chat

    # ------------------------------------------------------------------ chat information

    def _api_getchat(self, params: Params) -> Json:
        chat = self._member_chat(params)
        info: Json = {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(
                ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels"),
                False,
            ),
        }
        if pinned := self.pinned(chat):
            info["pinned_message"] = pinned[-1].data
        return info

    def _api_getchatmember(self, params: Params) -> Json:
        chat = self._member_chat(params)
        user_id = params.need_integer("user_id")
        user = self.bot if user_id == self.bot.id else self.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        return self._member_json(chat, user)

    def _api_getchatadministrators(self, params: Params) -> list[Json]:
        chat = self._member_chat(params)
        if not chat.is_group:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        admins = [self._member_json(chat, chat.members[0])] if chat.members else []
        if chat.bot_status == "administrator":
            admins.append(self._member_json(chat, self.bot))
        return admins

    def _api_getchatmembercount(self, params: Params) -> int:
        chat = self._member_chat(params)
        if not chat.is_group:
            return 2
        return len(chat.members) + (1 if self._bot_reads(chat) else 0)

    def _member_json(self, chat: FakeChat, user: FakeUser) -> Json:
        if user.id == self.bot.id:
            return _bot_member_json(chat, user.to_json())
        if chat.type == PRIVATE:
            return {"status": "member", "user": user.to_json()}
        if chat.members and chat.members[0].id == user.id:
            return {"status": "creator", "user": user.to_json(), "is_anonymous": False}
        return {"status": "member" if user in chat.members else "left", "user": user.to_json()}

    def _api_leavechat(self, params: Params) -> bool:
        chat = self._member_chat(params)
        if not chat.is_group:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        self._set_bot_status(chat, "left", self.bot)
        return True

    # ------------------------------------------------------------------ small methods

    def _api_answercallbackquery(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._open_callbacks:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.text("text") or ""
        if len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = {
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
        }
        return True

    def _api_sendchataction(self, params: Params) -> bool:
        chat = self._writable_chat(params)
        action = params.text("action") or ""
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    def _api_getfile(self, params: Params) -> Json:
        record = self.files.get(params.text("file_id") or "")
        if record is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return record.to_json()

    def file_by_path(self, path: str) -> FileRecord | None:
        """For the /file/bot<token>/<path> download route."""
        return next((record for record in self.files.values() if record.file_path == path), None)

    # ------------------------------------------------------------------ files

    def _input_file(self, params: Params, kind: str, value: str | None) -> FileRecord:
        """An upload (direct part or attach://name), a known file_id, or a URL Telegram would fetch."""
        upload = params.files.get(kind) if value is None else None
        if value is not None and value.startswith("attach://"):
            upload = params.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if upload is not None:
            return self._store_file(kind, upload.content, upload.filename)
        if value is None:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            return self._store_file(kind, b"", value.rsplit("/", 1)[-1] or "file")
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _store_file(self, kind: str, content: bytes, file_name: str) -> FileRecord:
        number = len(self.files) + 1
        prefix = "AgACAgUAAxk" if kind == "photo" else "BQACAgUAAxk"
        suffix = ".jpg" if kind == "photo" else "_" + file_name
        mime = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        record = FileRecord(
            f"{prefix}{number:012d}", f"AQAD{number:08d}", f"{kind}s/file_{number}{suffix}", content, file_name, mime
        )
        self.files[record.file_id] = record
        return record

    # ------------------------------------------------------------------ chat resolution and rights

    def _known_chat(self, ref: int | str) -> FakeChat:
        chat = self._chat_by_ref(ref)
        if chat.migrated_to is not None:
            raise _migrated(chat.migrated_to)
        return chat

    def _chat_by_ref(self, ref: int | str) -> FakeChat:
        if isinstance(ref, int):
            chat = self.chats.get(ref)
        else:
            chat = next((c for c in self.chats.values() if c.username and f"@{c.username}" == ref), None)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _member_chat(self, params: Params) -> FakeChat:
        """A chat the bot is in: kicked or left answers 403, as Telegram does for anything in that chat."""
        chat = self._known_chat(params.chat_ref())
        if chat.is_group and not self._bot_reads(chat):
            raise ApiError(403, _forbidden_text(chat))
        return chat

    def _writable_chat(self, params: Params) -> FakeChat:
        chat = self._member_chat(params)
        if chat.type == PRIVATE and chat.bot_status == "kicked":
            raise ApiError(403, _forbidden_text(chat))
        if chat.type == PRIVATE and not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _message(self, chat: FakeChat, message_id: int) -> FakeMessage:
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise KeyError(f"no message {message_id} in chat {chat.id}")
        return message

    def _now(self) -> int:
        return int(self.wall_fn())

    # ------------------------------------------------------------------ inspection

    def messages_in(
        self, chat: FakeChat | int, include_deleted: bool = False, include_service: bool = False
    ) -> list[FakeMessage]:
        return [
            message
            for message in self._chat(chat).messages.values()
            if (include_deleted or not message.deleted) and (include_service or not message.service)
        ]

    def visible_text(self, chat: FakeChat | int) -> str:
        """Everything a person can still read in the chat, one message per line (for substring asserts)."""
        return "\n".join(message.text for message in self.messages_in(chat))

    def pinned(self, chat: FakeChat | int) -> list[FakeMessage]:
        """Pinned messages, oldest pin first; getChat's pinned_message is the last one."""
        found = self._chat(chat)
        return [found.messages[message_id] for message_id in found.pinned]

    def last_message(self, chat: FakeChat | int) -> FakeMessage | None:
        messages = self.messages_in(chat)
        return messages[-1] if messages else None

    def bot_messages(self, chat: FakeChat | int) -> list[FakeMessage]:
        return [message for message in self.messages_in(chat) if message.from_bot]

    def requests_for(self, method: str) -> list[RequestRecord]:
        return [record for record in self.requests if record.method.lower() == method.lower()]

    def transcript(self) -> list[TranscriptLine]:
        """Chat by chat, in order, what a person in it sees."""
        return [self._line(chat, message) for chat in self.chats.values() for message in chat.messages.values()]

    def _line(self, chat: FakeChat, message: FakeMessage) -> TranscriptLine:
        marks = [name for name in ("edited", "deleted", "service") if getattr(message, name)]
        marks += _media_marks(message.data)
        if message.message_id in chat.pinned:
            marks.append("pinned")
        sender = message.data["from"]
        return TranscriptLine(
            chat.label,
            _service_text(message) if message.service else message.text,
            tuple(message.buttons),
            tuple(marks),
            sender.get("username") if sender["is_bot"] else sender["first_name"],
            message.message_id,
        )


# ---------------------------------------------------------------------- module helpers


def _too_many(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def _migrated(target: int) -> ApiError:
    return ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": target})


def _forbidden_text(chat: FakeChat) -> str:
    if chat.type == PRIVATE:
        return "Forbidden: bot was blocked by the user"
    if chat.bot_status == "kicked":
        return f"Forbidden: bot was kicked from the {chat.type} chat"
    return f"Forbidden: bot is not a member of the {chat.type} chat"


def _check_button(button: Json) -> None:
    if not button.get("text"):
        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    if not any(key in button for key in _BUTTON_ACTIONS):
        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")


def _bot_member_json(chat: FakeChat, user: Json) -> Json:
    if chat.bot_status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if chat.bot_status != "administrator":
        return {"status": chat.bot_status, "user": user}
    rights = dict.fromkeys(
        (
            "can_be_edited",
            "is_anonymous",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_send_welcome_messages",
        ),
        False,
    )
    rights.update(can_manage_chat=True, can_invite_users=True)
    rights.update(can_delete_messages=chat.can_delete, can_pin_messages=chat.can_pin)
    return {"status": "administrator", "user": user, **rights}


def _scope_key(params: Params) -> tuple[str, str]:
    scope = params.json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.text("language_code") or ""


def _photo_size(record: FileRecord) -> Json:
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": len(record.content),
        "width": 1280,
        "height": 960,
    }


def _document(record: FileRecord) -> Json:
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_name": record.file_name,
        "mime_type": record.mime_type,
        "file_size": len(record.content),
    }


def _quoted(message: FakeMessage) -> Json:
    """A message embedded in another (reply, pin): a copy, one level deep, as Telegram sends it."""
    data = copy.deepcopy(message.data)
    data.pop("reply_to_message", None)
    return data


def _media_marks(data: Json) -> list[str]:
    """A person sees the attachment even when the text is empty."""
    if "photo" in data:
        return ["photo"]
    if "document" in data:
        return [f"document:{data['document'].get('file_name') or 'file'}"]
    return []


def _service_text(message: FakeMessage) -> str:
    data = message.data
    if "pinned_message" in data:
        pinned = data["pinned_message"]
        return f"📌 pinned: {pinned.get('text') or pinned.get('caption') or '[media]'}"
    if "migrate_to_chat_id" in data:
        return f"group upgraded to supergroup {data['migrate_to_chat_id']}"
    if "migrate_from_chat_id" in data:
        return f"supergroup created from group {data['migrate_from_chat_id']}"
    return "[service message]"
