"""`cunwu demo`: the real bot, offline, playing a scripted story.

No token and no network: a temporary folder holds a SQLite database, the project's fake Bot API server
(bot.fakeapi) listens on 127.0.0.1, and the production BotApp polls it through aiogram's ordinary
AiohttpSession. Simulated people act through the fake world's driver methods (they send, tap and open
links exactly as a Telegram client would); between two steps the stage waits until Telegram has no
update waiting, the outbox is empty and the bot has stopped talking.

The story is a list of chapters (`CHAPTERS`). A chapter is an async function taking the `Stage`; it
plays people's actions and raises `StoryError` when the bot does not do what the story needs. The
end-to-end tests play the same chapters against the real `cunwu run` process, so a new capability adds
its chapter here once and is both demonstrated and tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.fakeapi import FakeBotAPIServer, FakeChat, FakeMessage, FakeTelegram, FakeUser
from bot.texts import Texts
from models import OutboxMessage

DEMO_TOKEN = "7000000001:DEMO-offline-token-for-the-fake-telegram-only"
ADMIN_ID = 9_000_001
INSPECTOR_ID = 9_000_002


class StoryError(Exception):
    """The bot did not do what the story needs; the message is one line."""


# ---------------------------------------------------------------------- the script, per language

SCRIPT: dict[str, dict[str, str]] = {
    "zh": {
        "admin": "管理员", "staff": "王会计", "secretary": "张书记", "supervisor": "刘监委",
        "inspector": "赵镇干部", "resident": "李大爷",
        "township": "红旗镇", "village": "兴隆村",
        "group": "兴隆村村民群{n}", "filing": "红旗镇备案群",
        "title": "{year}年第{q}季度村级财务收支情况",
        "body": "本季度收入12.5万元（上级转移支付8万元，集体资产租金4.5万元），"
                "支出8.2万元（道路维修5万元，办公经费1.2万元，环境整治2万元）。",
        "ch.onboarding": "第一章 · 建村、邀请、绑定群、村民加入",
        "ch.notices": "第二章 · 起草公开事项、两级审核、发布到村民群与备案群",
        "ch.deadlines": "第三章 · 一个季度过去：到期提醒、一键起草、审核发布、/due 显示已按时公开",
        "sees": "看到的内容", "taps": "点了", "private": "私聊", "pinned": "已置顶", "edited": "已编辑",
        "done": "演示完成：{chapters} 章，用时 {seconds:.1f} 秒。",
    },
    "en": {
        "admin": "Admin", "staff": "Accountant Wang", "secretary": "Secretary Zhang",
        "supervisor": "Supervisor Liu", "inspector": "Inspector Zhao", "resident": "Grandpa Li",
        "township": "Hongqi Township", "village": "Xinglong Village",
        "group": "Xinglong residents {n}", "filing": "Hongqi filing group",
        "title": "Village finances, {year} Q{q}",
        "body": "Income this quarter: 125,000 yuan (transfers 80,000; rent of collective assets 45,000). "
                "Spending: 82,000 yuan (road repair 50,000; office 12,000; environment 20,000).",
        "ch.onboarding": "Chapter 1 · A village, invites, a bound group, a resident joins",
        "ch.notices": "Chapter 2 · Drafting a notice, two approvals, broadcast to the groups and filing",
        "ch.deadlines": "Chapter 3 · A quarter passes: a reminder, draft it now, reviewed and published, /due says met",
        "sees": "sees", "taps": "taps", "private": "private chat", "pinned": "pinned", "edited": "edited",
        "done": "Demo finished: {chapters} chapters in {seconds:.1f} s.",
    },
}


# ---------------------------------------------------------------------- the stage


@dataclass
class Tap:
    """A button press, shown in the transcript after the message it was on."""

    user: str
    label: str
    after_message_id: int


@dataclass
class Stage:
    """What every chapter plays on: the fake Telegram, the database (to know when the bot is done), the
    language of the simulated people, and the cast and chats met so far (chapters hand them on)."""

    world: FakeTelegram
    sessions: async_sessionmaker[AsyncSession]
    lang: str = "zh"
    texts: Texts = field(default_factory=Texts)
    settle: float = 0.12  # the bot counts as done when it made no request for this long
    timeout: float = 15.0
    people: dict[str, FakeUser] = field(default_factory=dict)
    chats: dict[str, FakeChat] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    taps: dict[int, list[Tap]] = field(default_factory=dict)

    # --- words -------------------------------------------------------------------------------------

    def say_(self, key: str, **params: Any) -> str:
        """A line of the script in the story's language."""
        return SCRIPT[self.lang][key].format(**params)

    def ui(self, key: str, **params: Any) -> str:
        """A bot label (button, role name) as the people of this story see it."""
        return self.texts.t(self.lang, key, **params)

    # --- cast --------------------------------------------------------------------------------------

    def person(self, role: str, user_id: int | None = None) -> FakeUser:
        if role not in self.people:
            language = "en" if self.lang == "en" else "zh-hans"
            self.people[role] = self.world.new_user(self.say_(role), language_code=language, user_id=user_id)
        return self.people[role]

    def group(self, key: str, title: str, members: Iterable[FakeUser], *, pin: bool = True) -> FakeChat:
        chat = self.world.new_group(title, members=list(members), supergroup=True)
        self.world.add_bot_to_group(chat, admin=True, can_pin=pin)
        self.chats[key] = chat
        return chat

    # --- what people do ----------------------------------------------------------------------------

    async def send(self, user: FakeUser, text: str, chat: FakeChat | None = None) -> None:
        """Send a message and wait for the bot's answer in the same chat, then for quiet."""
        chat = chat or self.world.private_chat(user)
        sent = self.world.user_sends(user, chat, text)
        await self._answered(lambda: any(m.message_id > sent.message_id for m in self.world.bot_messages(chat)))

    async def open_link(self, user: FakeUser, payload: str) -> None:
        sent = self.world.user_opens_deep_link(user, payload)
        chat = self.world.private_chat(user)
        await self._answered(lambda: any(m.message_id > sent.message_id for m in self.world.bot_messages(chat)))

    async def tap(self, user: FakeUser, label: str = "", *, data: str = "", chat: FakeChat | None = None) -> None:
        """Tap the newest button whose label contains `label` and whose callback data matches the
        fnmatch pattern `data` (e.g. "dc1:*:cw": the finance class, whatever the button says)."""
        chat = chat or self.world.private_chat(user)
        message, button = self.find_button(chat, label, data)
        self.taps.setdefault(chat.id, []).append(Tap(user.first_name, button["text"], message.message_id))
        query_id = self.world.user_taps(user, chat, message.message_id, button["callback_data"])
        await self._answered(lambda: query_id in self.world.callback_answers)

    def find_button(self, chat: FakeChat, label: str, data: str = "") -> tuple[FakeMessage, dict[str, str]]:
        for message in reversed(self.world.messages_in(chat)):
            for row in message.data.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    found = label in button["text"] and fnmatch(str(button.get("callback_data", "")), data or "*")
                    if found and "callback_data" in button:
                        return message, button
        raise StoryError(f"{chat.label} has no button {label or data!r}; last message: {self.last(chat)[:80]!r}")

    def url_payload(self, chat: FakeChat) -> str:
        """The deep-link payload of the newest URL button in the chat (e.g. "join this village")."""
        for message in reversed(self.world.bot_messages(chat)):
            for row in message.data.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if "start=" in button.get("url", ""):
                        return str(button["url"]).split("start=", 1)[1]
        raise StoryError(f"{chat.label} has no deep-link button")

    # --- what people see ---------------------------------------------------------------------------

    def texts_in(self, chat: FakeChat | FakeUser) -> list[str]:
        target = self.world.private_chat(chat) if isinstance(chat, FakeUser) else chat
        return [message.text for message in self.world.bot_messages(target)]

    def last(self, chat: FakeChat | FakeUser) -> str:
        texts = self.texts_in(chat)
        return texts[-1] if texts else ""

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise StoryError(what)

    # --- waiting -----------------------------------------------------------------------------------

    async def _answered(self, answered: Callable[[], bool]) -> None:
        """The bot's first visible reaction (an answer in the chat, a tap acknowledged) proves it took the
        update in hand; quiet then waits for everything that follows. Polling confirms an update when it
        is fetched, long before it is handled, so quiet alone could not tell a slow handler from none."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not answered():
            if loop.time() > deadline:
                raise StoryError(f"the bot did not answer within {self.timeout:.0f} s")
            await asyncio.sleep(0.01)
        await self.quiet()

    async def quiet(self) -> None:
        """Wait until no update waits in Telegram, the outbox is empty and the bot has made no request
        for `settle` seconds; a bot that never gets there fails the story after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        seen, since = -1, loop.time()
        while loop.time() < deadline:
            count = sum(1 for r in self.world.requests if r.method.lower() != "getupdates")
            if count != seen:
                seen, since = count, loop.time()
            idle = not self.world.pending_updates() and await self.outbox_idle()
            if idle and loop.time() - since >= self.settle:
                return
            await asyncio.sleep(0.02)
        raise StoryError(f"the bot was still busy after {self.timeout:.0f} s "
                         f"({len(self.world.pending_updates())} updates waiting)")

    async def outbox_idle(self) -> bool:
        async with self.sessions() as session:
            busy = await session.exec(select(func.count()).select_from(OutboxMessage).where(
                col(OutboxMessage.status).in_(["pending", "sending"])))
            return not busy.one()


# ---------------------------------------------------------------------- the chapters

Chapter = Callable[[Stage], Awaitable[None]]


async def import_township(stage: Stage) -> None:
    """The township office's directory file (what `cunwu admin import` reads): the township and its
    inspector. Villages are created in the bot by the deployment admin in chapter 1."""
    from services.directory_io import import_file, parse

    inspector = stage.person("inspector", INSPECTOR_ID)
    text = (f"township: {{code: hongqi, name: {stage.say_('township')}, inspectors: [{inspector.id}]}}\n"
            "villages: []\n")
    async with stage.sessions() as session:
        await import_file(session, parse(text))
        await session.commit()


async def chapter_onboarding(stage: Stage) -> None:
    admin = stage.person("admin", ADMIN_ID)
    staff, secretary = stage.person("staff"), stage.person("secretary")
    supervisor, resident = stage.person("supervisor"), stage.person("resident")
    inspector = stage.person("inspector", INSPECTOR_ID)
    village = stage.say_("village")
    await stage.send(admin, f"/newvillage hongqi xinglong {village}")
    stage.expect(village in stage.last(admin), "/newvillage did not confirm the village")
    for role, person in (("staff", staff), ("secretary", secretary), ("supervisor", supervisor)):
        await stage.send(admin, "/invite")
        await stage.tap(admin, village)
        await stage.tap(admin, stage.ui(f"role.{role}"))
        link = stage.last(admin).split("start=", 1)
        stage.expect(len(link) == 2, f"no invite link for {role}")
        await stage.open_link(person, link[1].split()[0])
        stage.expect(stage.ui(f"role.{role}") in stage.last(person), f"the {role} invite was not accepted")
    for number in (1, 2, 3):
        group = stage.group(f"residents{number}", stage.say_("group", n=number), [staff, resident])
        await stage.quiet()
        await stage.send(staff, "/bind", chat=group)
        stage.expect(village in stage.last(group), f"/bind did not bind {group.label}")
    filing = stage.group("filing", stage.say_("filing"), [inspector])
    await stage.quiet()
    await stage.send(inspector, "/bind filing", chat=filing)
    stage.expect(stage.say_("township") in stage.last(filing), "the filing group was not bound")
    await _resident_joins(stage, staff, resident, stage.chats["residents1"])


async def _resident_joins(stage: Stage, staff: FakeUser, resident: FakeUser, group: FakeChat) -> None:
    await stage.send(resident, "/join", chat=group)
    await stage.open_link(resident, stage.url_payload(group))
    stage.expect(resident.first_name in stage.last(staff), "staff were not told of the join request")
    await stage.tap(staff, stage.ui("btn.approve"))
    await stage.send(resident, "/start")
    stage.expect(stage.ui("role.resident") in stage.last(resident), "the resident was not confirmed")


async def chapter_notices(stage: Stage) -> None:
    staff, secretary, supervisor = stage.people["staff"], stage.people["secretary"], stage.people["supervisor"]
    await stage.send(staff, "/draft")
    await stage.tap(staff, data="dc1:*:cw")  # the finance class (财务类)
    await stage.tap(staff, data="di1:*:cw.1")  # item 1: the village's income and spending
    period = stage.find_button(stage.world.private_chat(staff), "", "dq1:*")[1]["text"]  # the one now due
    await stage.tap(staff, period, data="dq1:*")
    year, _, quarter = period.partition("Q")
    title = stage.say_("title", year=year, q=quarter or "1")
    stage.facts["title"] = title
    await stage.send(staff, title)
    await stage.send(staff, stage.say_("body"))
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(secretary, stage.ui("btn.approve"))
    await stage.tap(supervisor, stage.ui("btn.approve"))
    _expect_published(stage, title)


def _expect_published(stage: Stage, title: str) -> None:
    for key in ("residents1", "residents2", "residents3"):
        group = stage.chats[key]
        pinned = stage.world.pinned(group)
        stage.expect(bool(pinned) and title in pinned[-1].text, f"the notice is not pinned in {group.label}")
    stage.expect(any(title in text for text in stage.texts_in(stage.chats["filing"])),
                 "the filing group has no copy of the notice")
    stage.expect(any("4/4" in text for text in stage.texts_in(stage.people["staff"])),
                 "the author was not told that delivery finished")


async def chapter_deadlines(stage: Stage) -> None:
    """A quarter passes on a simulated clock (bot/demo_clock.py says how, in and out of process): the daily
    scan reminds the clerk seven days before the quarter's disclosures fall due, with a "draft it now"
    button per item; one tap opens the draft with item and period filled in; it is reviewed and
    published like any notice, and /due shows the obligation met on time."""
    from bot.demo_clock import quarter_reminder_time, story_clock

    staff, secretary, supervisor = stage.people["staff"], stage.people["secretary"], stage.people["supervisor"]
    clock = story_clock(stage.facts)
    when, quarter = quarter_reminder_time(clock.policy, clock.now())
    clock.set(when)
    await clock.run_scan()
    await stage.quiet()
    reminder, button = stage.find_button(stage.world.private_chat(staff), "", f"nd1|*|jyv:cw.1|{quarter}|0")
    stage.expect(str(quarter) in reminder.text and len(reminder.buttons) > 1, "no reminder with its buttons")
    await stage.tap(staff, button["text"], data=button["callback_data"])
    title = stage.say_("title", year=quarter.year, q=quarter.index)
    await stage.send(staff, title)
    await stage.send(staff, stage.say_("body"))
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(secretary, stage.ui("btn.approve"))
    await stage.tap(supervisor, stage.ui("btn.approve"))
    for key in ("residents1", "residents2", "residents3"):
        stage.expect(title in stage.last(stage.chats[key]), f"the notice did not reach {stage.chats[key].label}")
    seen = len(stage.texts_in(staff))
    await stage.send(staff, "/due")
    item = clock.policy.item("jyv:cw.1")
    name = (item.en if stage.lang == "en" else item.zh) if item else ""
    met = [line for text in stage.texts_in(staff)[seen:] for line in text.splitlines()
           if line.startswith("🟢") and name in line and str(quarter) in line]
    stage.expect(len(met) == 1, f"/due does not show {name} {quarter} as met on time")


# A later capability appends (script key of its title, its function); the order is the story's order.
CHAPTERS: list[tuple[str, Chapter]] = [
    ("ch.onboarding", chapter_onboarding),
    ("ch.notices", chapter_notices),
    ("ch.deadlines", chapter_deadlines),
]
PROLOGUE: list[Chapter] = [import_township]


async def play_story(stage: Stage, out: Callable[[str], None] | None = None,
                     chapters: list[tuple[str, Chapter]] | None = None) -> None:
    for step in PROLOGUE:
        await step(stage)
    transcript = Transcript(stage)
    for title_key, chapter in chapters if chapters is not None else CHAPTERS:
        mark = transcript.mark()
        await chapter(stage)
        if out is not None:
            out(transcript.render(stage.say_(title_key), since=mark))


# ---------------------------------------------------------------------- the transcript


class Transcript:
    """Per chat, what the people in it see: their own messages, the bot's with buttons and marks, taps."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def mark(self) -> dict[int, dict[int, tuple[str, bool]]]:
        world = self.stage.world
        return {chat.id: {m.message_id: (m.text, m.edited) for m in chat.messages.values()}
                for chat in world.chats.values()}

    def render(self, title: str, since: dict[int, dict[int, tuple[str, bool]]]) -> str:
        lines = ["", f"═══ {title} ".ljust(72, "═")]
        for chat in self.stage.world.chats.values():
            before = since.get(chat.id, {})
            shown = [m for m in self.stage.world.messages_in(chat)
                     if before.get(m.message_id) != (m.text, m.edited)]
            if shown:
                lines += self._chat(chat, shown)
        return "\n".join(lines)

    def _chat(self, chat: FakeChat, messages: list[FakeMessage]) -> list[str]:
        where = self.stage.say_("private") if chat.user is not None else ", ".join(
            member.first_name for member in chat.members)
        lines = ["", f"── {chat.label} ({where}) {self.stage.say_('sees')}:"]
        taps = self.stage.taps.get(chat.id, [])
        for message in messages:
            lines += self._message(chat, message)
            lines += [f"      ↳ {tap.user} {self.stage.say_('taps')} [{tap.label}]"
                      for tap in taps if tap.after_message_id == message.message_id]
        return lines

    def _message(self, chat: FakeChat, message: FakeMessage) -> list[str]:
        marks = []
        if message.message_id in chat.pinned:
            marks.append("📌 " + self.stage.say_("pinned"))
        if message.edited:
            marks.append(self.stage.say_("edited"))
        sender = "🤖" if message.from_bot else f"👤 {message.data['from']['first_name']}:"
        text = message.text.splitlines() or [""]
        head = f"  {sender} {text[0]}" + (f"   ({', '.join(marks)})" if marks else "")
        lines = [head] + [f"     {line}" for line in text[1:]]
        if message.buttons:
            lines.append("     " + " ".join(f"[{label}]" for label in message.buttons))
        return lines


# ---------------------------------------------------------------------- the real bot, offline


@contextlib.asynccontextmanager
async def offline_bot(folder: Path, lang: str) -> AsyncIterator[Stage]:
    """The production BotApp polling the fake Bot API server over HTTP, on a fresh SQLite database."""
    from bot.app import BotApp, prepare
    from bot.settings import Settings
    from bot.wiring import build_bot

    world = FakeTelegram(DEMO_TOKEN, bot_id=int(DEMO_TOKEN.split(":")[0]))
    server = FakeBotAPIServer(world)
    url = await server.start()
    settings = Settings(_env_file=None, bot_token=DEMO_TOKEN, telegram_api_url=url,  # type: ignore[call-arg]
                        database_url=f"sqlite+aiosqlite:///{folder / 'cunwu.db'}", admin_ids=[ADMIN_ID],
                        default_language=lang, redis_url=None)
    runtime = await prepare(settings)
    app = BotApp(runtime, build_bot(runtime))
    polling: asyncio.Task[None] | None = None
    try:
        await app.start_background()
        polling = asyncio.create_task(app.dispatcher.start_polling(
            app.bot, handle_signals=False, close_bot_session=False, polling_timeout=5))
        yield Stage(world, runtime.sessions, lang=lang, texts=runtime.texts)
    finally:
        if polling is not None:
            with contextlib.suppress(RuntimeError):
                await app.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        await app.stop_background()
        await app.bot.session.close()
        await runtime.close()
        await server.stop()


async def play(lang: str = "zh") -> int:
    loop = asyncio.get_running_loop()
    started = loop.time()
    quiet_logs()
    try:
        with tempfile.TemporaryDirectory(prefix="cunwu-demo-") as folder:
            async with offline_bot(Path(folder), lang) as stage:
                await play_story(stage, out=print)
    except Exception as error:  # the demo's contract: one line and a non-zero exit
        print(f"cunwu demo: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return 1
    print("\n" + SCRIPT[lang]["done"].format(chapters=len(CHAPTERS), seconds=loop.time() - started))
    return 0


def quiet_logs() -> None:
    """The transcript is the demo's output; routine INFO lines from aiogram and aiohttp would bury it."""
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))
