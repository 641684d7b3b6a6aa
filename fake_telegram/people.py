"""The people, chats and messages of the fake Telegram, stored in Bot API JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

Json = dict[str, Any]

PRIVATE = "private"
GROUP = "group"
SUPERGROUP = "supergroup"


@dataclass
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_json(self) -> Json:
        data: Json = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        # Telegram omits absent optional fields instead of sending null.
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass
class FakeMessage:
    """One message as stored by Telegram plus what a person actually sees of it."""

    chat_id: int
    message_id: int
    data: Json
    text: str
    html: str | None
    from_bot: bool
    service: bool = False
    edited: bool = False
    deleted: bool = False
    # Telegram no longer shows it to the bot (Bot API InaccessibleMessage): a tap on its button carries
    # only chat, message_id and date 0, and an edit is refused.
    inaccessible: bool = False

    @property
    def buttons(self) -> list[str]:
        rows = self.data.get("reply_markup", {}).get("inline_keyboard", [])
        return [button["text"] for row in rows for button in row]

    def callback_data(self) -> set[str]:
        rows = self.data.get("reply_markup", {}).get("inline_keyboard", [])
        return {button["callback_data"] for row in rows for button in row if "callback_data" in button}


@dataclass
class FakeChat:
    id: int
    type: str
    title: str | None = None
    user: FakeUser | None = None  # the other side of a private chat
    username: str | None = None
    members: list[FakeUser] = field(default_factory=list)
    bot_status: str = "left"  # member / administrator / kicked / left
    can_pin: bool = False
    can_delete: bool = False
    started: bool = False  # private chats: the user pressed Start, so the bot may write
    pinned: list[int] = field(default_factory=list)
    migrated_to: int | None = None
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def label(self) -> str:
        """What a person calls this chat: the group title or the user's name."""
        if self.user is not None:
            return self.user.full_name
        return self.title or str(self.id)

    @property
    def is_group(self) -> bool:
        return self.type in (GROUP, SUPERGROUP)

    def to_json(self) -> Json:
        if self.user is not None:
            data = {"id": self.id, "type": PRIVATE, "first_name": self.user.first_name}
            for name in ("last_name", "username"):
                if getattr(self.user, name) is not None:
                    data[name] = getattr(self.user, name)
            return data
        data = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        return data

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def to_json(self) -> Json:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class Upload:
    """A file part of a request (multipart upload or in-process InputFile)."""

    filename: str
    content: bytes


class TranscriptLine(NamedTuple):
    """One message as a person in the chat sees it; plain data for printing."""

    chat: str
    text: str
    buttons: tuple[str, ...]
    marks: tuple[str, ...]
    sender: str
    message_id: int
