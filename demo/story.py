"""`cunwu demo`: the real bot, offline, playing a scripted story.

No token and no network: a temporary folder holds a SQLite database, the project's fake Bot API server
(fake_telegram) listens on 127.0.0.1, and the production BotApp polls it through aiogram's ordinary
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
from datetime import timedelta
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.ui.texts import Texts
from fake_telegram import FakeBotAPIServer, FakeChat, FakeMessage, FakeTelegram, FakeUser
from fake_telegram.balancer import free_port
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
        "title": "{period}村级财务收支情况",
        "body": "本季度收入12.5万元（上级转移支付8万元，集体资产租金4.5万元），"
                "支出8.2万元（道路维修5万元，办公经费1.2万元，环境整治2万元）。",
        "ch.onboarding": "第一章 · 建村、邀请、绑定群、村民加入",
        "ch.notices": "第二章 · 起草公开事项、两级审核、发布到村民群与备案群",
        "ch.deadlines": "第五章 · 一个季度过去：到期提醒、一键起草、录入财务明细表、审核发布、/due 显示已按时公开",
        "statement": "转移支付 0 80000 62000 18000\n资产租金 30000 45000 20000 55000\n合计 30000 125000 82000 73000",
        "statement_row": "转移支付",
        "sees": "看到的内容", "taps": "点了", "private": "私聊", "pinned": "已置顶", "edited": "已编辑",
        "done": "演示完成：{chapters} 章，用时 {seconds:.1f} 秒。",
        "board_written": "兴隆村公开栏的网页和张贴版（PDF）已写入 {folder}\n打开：{page}",
        "board_served": "公开栏正在运行：{url}（按 Ctrl-C 结束）",
    },
    "en": {
        "admin": "Admin", "staff": "Accountant Wang", "secretary": "Secretary Zhang",
        "supervisor": "Supervisor Liu", "inspector": "Inspector Zhao", "resident": "Grandpa Li",
        "township": "Hongqi Township", "village": "Xinglong Village",
        "group": "Xinglong residents {n}", "filing": "Hongqi filing group",
        "title": "Village finances, {period}",
        "body": "Income this quarter: 125,000 yuan (transfers 80,000; rent of collective assets 45,000). "
                "Spending: 82,000 yuan (road repair 50,000; office 12,000; environment 20,000).",
        "ch.onboarding": "Chapter 1 · A village, invites, a bound group, a resident joins",
        "ch.notices": "Chapter 2 · Drafting a notice, two approvals, broadcast to the groups and filing",
        "ch.deadlines": "Chapter 5 · A quarter passes: a reminder, draft it now, a finance statement entered, "
                        "reviewed and published, /due says met",
        "statement": "Grants 0 80000 62000 18000\nRent 30000 45000 20000 55000\nTotal 30000 125000 82000 73000",
        "statement_row": "Grants",
        "sees": "sees", "taps": "taps", "private": "private chat", "pinned": "pinned", "edited": "edited",
        "done": "Demo finished: {chapters} chapters in {seconds:.1f} s.",
        "board_written": "Xinglong's board (pages and PDF posters) was written to {folder}\nOpen: {page}",
        "board_served": "The board is served at {url} (Ctrl-C ends it)",
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
    # A real process confirms an update when it fetches it, and may still be handling it (its outbox rows
    # not yet committed) after `settle` seconds of silence on a busy machine: the end-to-end tests pass
    # a check that the process has finished every update created so far (its log says so).
    all_handled: Callable[[], bool] | None = None
    people: dict[str, FakeUser] = field(default_factory=dict)
    chats: dict[str, FakeChat] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    taps: dict[int, list[Tap]] = field(default_factory=dict)
    # chat id -> the id of the bot's newest message there when the current action began (see `told`)
    marks: dict[int, int] = field(default_factory=dict)

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
        self._mark()
        sent = self.world.user_sends(user, chat, text)
        await self._answered(lambda: any(m.message_id > sent.message_id for m in self.world.bot_messages(chat)))

    async def send_photo(self, user: FakeUser, reply_to: int) -> None:
        """A photo in the private chat, in reply to one of the bot's messages."""
        chat = self.world.private_chat(user)
        self._mark()
        sent = self.world.user_sends_photo(user, chat, reply_to=reply_to)
        await self._answered(lambda: any(m.message_id > sent.message_id for m in self.world.bot_messages(chat)))

    async def open_link(self, user: FakeUser, payload: str) -> None:
        self._mark()
        sent = self.world.user_opens_deep_link(user, payload)
        chat = self.world.private_chat(user)
        await self._answered(lambda: any(m.message_id > sent.message_id for m in self.world.bot_messages(chat)))

    async def tap(self, user: FakeUser, label: str = "", *, data: str = "", chat: FakeChat | None = None) -> None:
        """Tap the newest button whose label contains `label` and whose callback data matches the
        fnmatch pattern `data` (e.g. "dc1:*:cw": the finance class, whatever the button says)."""
        chat = chat or self.world.private_chat(user)
        message, button = self.find_button(chat, label, data)
        self.taps.setdefault(chat.id, []).append(Tap(user.first_name, button["text"], message.message_id))
        self._mark()
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

    def told(self, chat: FakeChat | FakeUser, *needles: str) -> str:
        """The newest message holding every needle among those the bot sent to the chat since the latest action
        began, or its last message (an earlier one may have been edited since); "" when none does. A message
        the bot sends on its own meanwhile, such as a nag of a real process's hourly scan on the wall clock,
        does not hide what the action caused, as it would if only the last message were read."""
        target = self.world.private_chat(chat) if isinstance(chat, FakeUser) else chat
        messages = self.world.bot_messages(target)
        since = self.marks.get(target.id, 0)
        for index, message in enumerate(reversed(messages)):
            if index and message.message_id <= since:
                break
            if all(needle in message.text for needle in needles):
                return message.text
        return ""

    def _mark(self) -> None:
        for chat in list(self.world.chats.values()):
            messages = self.world.bot_messages(chat)
            self.marks[chat.id] = messages[-1].message_id if messages else 0

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise StoryError(what)

    # --- waiting -----------------------------------------------------------------------------------

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        """Wait (up to `timeout`) for something the bot does in its own time, such as an edit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not condition():
            if loop.time() > deadline:
                raise StoryError(what)
            await asyncio.sleep(0.05)

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
            idle = (not self.world.pending_updates() and (self.all_handled is None or self.all_handled())
                    and await self.outbox_idle())
            if idle and loop.time() - since >= self.settle:
                return
            await asyncio.sleep(0.02)
        handling = "" if self.all_handled is None or self.all_handled() else ", updates still being handled"
        outbox = "" if await self.outbox_idle() else ", messages waiting in the outbox"
        raise StoryError(f"the bot was still busy after {self.timeout:.0f} s "
                         f"({len(self.world.pending_updates())} updates waiting{handling}{outbox})")

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
    from services.people.directory_io import import_file, parse

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
    await stage.send(admin, f'/newvillage hongqi xinglong "{village}" "{stage.say_("township")}"')
    stage.expect(bool(stage.told(admin, village)), "/newvillage did not confirm the village")
    for role, person in (("staff", staff), ("secretary", secretary), ("supervisor", supervisor)):
        await stage.send(admin, "/invite")
        await stage.tap(admin, village)
        await stage.tap(admin, stage.ui(f"role.{role}"))
        link = stage.last(admin).split("start=", 1)
        stage.expect(len(link) == 2, f"no invite link for {role}")
        await stage.open_link(person, link[1].split()[0])
        stage.expect(any(stage.ui(f"role.{role}") in text for text in stage.texts_in(person)[-3:]),
                     f"the {role} invite was not accepted")
        await stage.tap(person, data="nk1*")  # the name notices print: the one Telegram shows will do
    for number in (1, 2, 3):
        group = stage.group(f"residents{number}", stage.say_("group", n=number), [staff, resident])
        await stage.quiet()
        await stage.send(staff, "/bind", chat=group)
        stage.expect(any(village in text for text in stage.texts_in(group)[-2:]),
                     f"/bind did not bind {group.label}: {stage.texts_in(group)[-3:]}")
    filing = stage.group("filing", stage.say_("filing"), [inspector])
    await stage.quiet()
    await stage.send(inspector, "/bind filing", chat=filing)
    stage.expect(bool(stage.told(filing, stage.say_("township"))), "the filing group was not bound")
    await _resident_joins(stage, staff, resident, stage.chats["residents1"])


async def _resident_joins(stage: Stage, staff: FakeUser, resident: FakeUser, group: FakeChat) -> None:
    await stage.send(resident, "/join", chat=group)
    await stage.open_link(resident, stage.url_payload(group))
    stage.expect(bool(stage.told(staff, resident.first_name)), "staff were not told of the join request")
    await stage.tap(staff, stage.ui("btn.approve"))
    await stage.send(resident, "/start")
    stage.expect(bool(stage.told(resident, stage.ui("role.resident"))), "the resident was not confirmed")


async def chapter_notices(stage: Stage) -> None:
    staff, secretary, supervisor = stage.people["staff"], stage.people["secretary"], stage.people["supervisor"]
    await stage.send(staff, "/draft")
    await stage.tap(staff, data="dc1:*:cw")  # the finance class (财务类)
    await stage.tap(staff, data="di1:*:cw.1")  # item 1: the village's income and spending
    period = stage.find_button(stage.world.private_chat(staff), "", "dq1:*")[1]["text"]  # the one now due
    await stage.tap(staff, period, data="dq1:*")
    title = stage.say_("title", period=period)  # the button says the period in words
    stage.facts["title"] = title
    await stage.send(staff, title)
    await stage.send(staff, stage.say_("body"))
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(secretary, stage.ui("btn.approve"))
    await stage.tap(supervisor, stage.ui("btn.approve"))
    await _expect_published(stage, title)


async def _expect_published(stage: Stage, title: str) -> None:
    for key in ("residents1", "residents2", "residents3"):
        group = stage.chats[key]
        pinned = stage.world.pinned(group)
        stage.expect(bool(pinned) and title in pinned[-1].text, f"the notice is not pinned in {group.label}")
    stage.expect(any(title in text for text in stage.texts_in(stage.chats["filing"])),
                 "the filing group has no copy of the notice")
    # The delivery summary is an edit the worker makes when its turn under Telegram's limits comes.
    await stage.until(lambda: any("4/4" in text for text in stage.texts_in(stage.people["staff"])),
                      "the author was not told that delivery finished")


# ---------------------------------------------------------------------- the residents' voice

VOICE_SCRIPT: dict[str, dict[str, str]] = {
    "zh": {
        "ch.voice": "第三章 · 村民提问与投诉、私聊直接打字提问、联名申请公开",
        "rep1": "孙代表", "rep2": "吴代表",
        "question": "道路维修5万元修的是哪一段路？",
        "answer": "修的是村东头到小学的1.2公里水泥路，工程明细已贴在村委会公示栏。",
        "complaint": "环境整治2万元没有列出明细，这条公开内容不完整。",
        "first_reply": "环境整治支出用于垃圾清运和村道绿化。",
        "explanation": "补充说明：垃圾清运1.2万元（清运公司发票3张），绿化0.8万元（苗木采购合同1份），"
                       "明细已补贴在公示栏。",
        "p_title": "公开村道硬化工程承包合同",
        "p_request": "请公开村道硬化工程的招标结果、承包合同和工程款支付情况。",
        "item_words": "建设承包方案",
        "p_starter": "发起即已联署",
        "p_count_start": "已有1位村民联署，需要3位",
        "p_count_sun": "已有1位村民代表联署，需要2位",
        "p_count_wu": "已有2位村民联署，需要3位",
        "typed_general": "村里的路灯坏了好几盏，找谁修？",
        "general_answer": "已安排村委会电工老张本周内修好，以后路灯坏了可以直接找他。",
        "typed_latest": "办公经费1.2万元都花在哪了？",
        "latest_answer": "办公经费用于购买办公用品和支付村委会水电费，票据在村委会可以查看。",
        "d_title": "村道硬化工程承包合同及工程款支付情况",
        "d_body": "经村民代表会议决定，村道硬化工程（1.2公里）由红旗建筑公司承建，合同价36万元；"
                  "已支付工程款20万元，余款在验收合格后支付。",
    },
    "en": {
        "ch.voice": "Chapter 3 · Residents' questions and complaints, typed questions; a petition forces a disclosure",
        "rep1": "Representative Sun", "rep2": "Representative Wu",
        "question": "Which road was repaired for the 50,000 yuan?",
        "answer": "The 1.2 km concrete road from the east end to the primary school; the details are on the "
                  "committee's notice board.",
        "complaint": "The 20,000 yuan for the environment is not itemised: this disclosure is incomplete.",
        "first_reply": "The environment money paid for refuse collection and planting along the village road.",
        "explanation": "In detail: refuse collection 12,000 yuan (three invoices of the haulage company), planting "
                       "8,000 yuan (one seedling purchase contract); the breakdown is now on the notice board.",
        "p_title": "Disclose the village road paving contract",
        "p_request": "Please disclose the tender result, the contract and the payments for the village road paving.",
        "item_words": "construction contracts",
        "p_starter": "You started it, so you have signed it",
        "p_count_start": "1 resident has signed; 3 are needed",
        "p_count_sun": "1 representative has signed; 2 are needed",
        "p_count_wu": "2 residents have signed; 3 are needed",
        "typed_general": "Several street lights in the village are out: whom do I ask to repair them?",
        "general_answer": "Electrician Zhang of the committee will repair them this week; ask him directly next time.",
        "typed_latest": "What were the 12,000 yuan of office spending for?",
        "latest_answer": "Office supplies and the committee's water and power bills; the receipts can be seen at "
                         "the committee.",
        "d_title": "Village road paving: the contract and payments so far",
        "d_body": "As decided by the villagers' representatives meeting, Hongqi Construction paves the 1.2 km "
                  "village road for 360,000 yuan; 200,000 yuan has been paid, the rest is paid after acceptance.",
    },
}
for _lang, _lines in VOICE_SCRIPT.items():
    SCRIPT[_lang].update(_lines)


async def chapter_voice(stage: Stage) -> None:
    """A question from the notice's button and its reply; a complaint the committee makes the staff explain,
    then closes; a petition (its catalog item picked class first) confirmed, posted with its sign button, signed
    by its starter by starting it, then by representatives (live count) up to the threshold, due at once in
    /due, then met by a published disclosure."""
    await _voice_question(stage)
    await _voice_complaint(stage)
    await _voice_typed(stage)
    signers = await _voice_petition(stage)
    await _voice_disclosure(stage, signers)


def _voice_link(stage: Stage, chat: FakeChat, prefix: str) -> str:
    """The payload of the newest deep-link button in the chat whose payload starts with `prefix`."""
    for message in reversed(stage.world.bot_messages(chat)):
        for row in message.data.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                payload = str(button.get("url", "")).partition("start=")[2]
                if payload.startswith(prefix):
                    return payload
    raise StoryError(f"{chat.label} has no {prefix}… link")


async def _voice_ask(stage: Stage, text: str, *, complaint: bool) -> None:
    resident = stage.people["resident"]
    await stage.open_link(resident, _voice_link(stage, stage.chats["residents1"], "q_"))
    stage.expect(bool(stage.told(resident, stage.facts["title"])), "the question link did not name the notice")
    await stage.send(resident, text)
    await stage.tap(resident, stage.ui("vbtn.send_complaint" if complaint else "vbtn.send_question"))


async def _voice_reply(stage: Stage, text: str) -> None:
    staff, resident = stage.people["staff"], stage.people["resident"]
    await stage.tap(staff, stage.ui("vbtn.q_reply"))
    await stage.send(staff, text)
    stage.expect(bool(stage.told(resident, text)), "the resident did not receive the reply")


async def _voice_question(stage: Stage) -> None:
    staff, resident = stage.people["staff"], stage.people["resident"]
    await _voice_ask(stage, stage.say_("question"), complaint=False)
    stage.expect(bool(stage.told(staff, stage.say_("question"), resident.first_name)),
                 "the staff did not receive the question with the asker's name")
    await _voice_reply(stage, stage.say_("answer"))


async def _voice_typed(stage: Stage) -> None:
    """The resident types a question in the private chat, with no button: the bot offers to send it as a
    question about the latest notice or as a general question. Once each, and each answered."""
    resident, staff = stage.people["resident"], stage.people["staff"]
    for line, answer, choice in (("typed_general", "general_answer", "qt1:0"),
                                 ("typed_latest", "latest_answer", "qt1:[1-9]*")):
        await stage.send(resident, stage.say_(line))
        stage.expect(bool(stage.told(resident, stage.say_(line), stage.facts["title"])),
                     "typed text was not offered as a question")
        await stage.tap(resident, data=choice)
        await stage.tap(resident, stage.ui("vbtn.send_question"))
        stage.expect(bool(stage.told(staff, stage.say_(line))), "the staff did not receive the typed question")
        await _voice_reply(stage, stage.say_(answer))


async def _voice_complaint(stage: Stage) -> None:
    resident, supervisor = stage.people["resident"], stage.people["supervisor"]
    await _voice_ask(stage, stage.say_("complaint"), complaint=True)
    committee = stage.told(supervisor, stage.say_("complaint"))
    stage.expect(bool(committee) and resident.first_name not in committee,
                 "the committee did not receive the complaint, or saw who made it")
    await _voice_reply(stage, stage.say_("first_reply"))
    await stage.tap(supervisor, stage.ui("vbtn.q_explain"))
    stage.expect(bool(stage.told(stage.people["staff"], stage.say_("complaint"))),
                 "the staff were not asked to explain")
    await _voice_reply(stage, stage.say_("explanation"))
    stage.expect(bool(stage.told(supervisor, stage.say_("explanation"))), "the committee did not see the explanation")
    await stage.tap(supervisor, stage.ui("vbtn.q_close"))
    stage.expect(bool(stage.told(resident, stage.facts["title"])), "the resident was not told the complaint was closed")


async def _voice_directory(stage: Stage, representatives: list[FakeUser], residents: list[FakeUser]) -> None:
    """The township office exports its directory file, enters Xinglong's official population (30: a petition
    needs 3 residents) and its 10 representatives (or 2 of them) with two of their Telegram ids, and imports it."""
    import yaml

    from services.people.directory_io import export_township, import_file, parse

    async with stage.sessions() as session:
        data = yaml.safe_load(await export_township(session, "hongqi"))
        village = next(v for v in data["villages"] if v["code"] == "xinglong")
        village.update(population=30, representatives=10)
        roles = village.setdefault("roles", {})
        roles["representative"] = [user.id for user in representatives]
        roles["resident"] = sorted({*roles.get("resident", []), *(user.id for user in residents)})
        await import_file(session, parse(yaml.safe_dump(data, allow_unicode=True)))
        await session.commit()


async def _voice_petition(stage: Stage) -> list[FakeUser]:
    staff, resident, group = stage.people["staff"], stage.people["resident"], stage.chats["residents1"]
    sun, wu = stage.person("rep1"), stage.person("rep2")  # Wu is also a resident; Sun lives elsewhere
    group.members += [sun, wu]
    await _voice_directory(stage, [sun, wu], [wu])
    await stage.send(stage.people["inspector"], "/start")  # the inspector opens a private chat with the bot
    await stage.send(resident, "/petition")
    await stage.send(resident, stage.say_("p_title"))
    await stage.send(resident, stage.say_("p_request"))
    await stage.tap(resident, data="pc1:*:sw:0")  # the catalog item, its class first: affairs (事务类)
    await stage.tap(resident, data="pc1:*:sw:1")  # its second page
    await stage.tap(resident, data="pi1:*:sw.11")  # public works and their contracts
    stage.expect(bool(stage.told(staff, stage.say_("p_title"))), "the staff were not asked to confirm the petition")
    await stage.tap(staff, stage.ui("vbtn.p_confirm"))
    post = next((m for m in reversed(stage.world.bot_messages(group)) if stage.say_("p_title") in m.text), None)
    if post is None:
        raise StoryError("the petition was not posted in the residents' group")
    opened = "\n".join(stage.texts_in(resident)[-2:])
    stage.expect(stage.say_("p_starter") in opened and stage.say_("p_count_start") in opened,
                 "the starter was not told that starting the petition signed it")
    stage.expect(stage.say_("p_count_start") in post.text, "the group post does not count the starter")
    for signer, count in ((sun, "p_count_sun"), (wu, "p_count_wu")):
        await stage.open_link(signer, _voice_link(stage, group, "s_"))
        await stage.tap(signer, stage.ui("vbtn.p_sign"))
        stage.expect(stage.say_(count) in post.text,
                     f"the group post does not show {stage.say_(count)} after {signer.first_name} signed")
    for person in ("staff", "secretary", "supervisor", "inspector"):
        stage.expect(bool(stage.told(stage.people[person], stage.say_("p_title"))), f"the {person} was not told")
    seen = len(stage.texts_in(staff))
    await stage.send(staff, "/due")
    stage.expect(stage.say_("item_words") in "\n".join(stage.texts_in(staff)[seen:]),
                 "the petition's obligation is not in /due")
    return [resident, sun, wu]


async def _voice_disclosure(stage: Stage, signers: list[FakeUser]) -> None:
    staff, secretary, supervisor = stage.people["staff"], stage.people["secretary"], stage.people["supervisor"]
    before = {signer.id: len(stage.texts_in(signer)) for signer in signers}
    await stage.send(staff, "/draft")
    await stage.tap(staff, data="dc1:*:sw")  # affairs (事务类)
    await stage.tap(staff, data="dp1:*:sw:1")  # its second page
    await stage.tap(staff, data="di1:*:sw.11")
    await stage.send(staff, stage.say_("d_title"))
    await stage.send(staff, stage.say_("d_body"))
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(secretary, stage.ui("btn.approve"))
    await stage.tap(supervisor, stage.ui("btn.approve"))
    await _expect_published(stage, stage.say_("d_title"))
    for signer in signers:
        told = stage.texts_in(signer)[before[signer.id]:]
        stage.expect(any(stage.say_("p_title") in text for text in told),
                     f"{signer.first_name} was not told that the disclosure was published")


# ---------------------------------------------------------------------- the public board

BOARD_SCRIPT: dict[str, dict[str, str]] = {
    "zh": {"ch.board": "第四章 · 公开栏：网页地址、打印张贴版、张贴照片，村民在网页上看到“已张贴”",
           "posted": "已张贴"},
    "en": {"ch.board": "Chapter 4 · The public board: its address, the printed poster, the photo of it posted, "
                       "and the web page showing it posted",
           "posted": "Posted on the board"},
}
for _lang, _lines in BOARD_SCRIPT.items():
    SCRIPT[_lang].update(_lines)


async def chapter_board(stage: Stage) -> None:
    """The clerk asks for the village's board address, prints the first notice's poster from the button on
    their "published" message, puts it up and replies to that message with a photo; the board's web page
    (served by the bot's own process, at stage.facts["board"]) then shows the notice as posted."""
    staff = stage.people["staff"]
    chat = stage.world.private_chat(staff)
    base = stage.facts.get("board")
    await stage.send(staff, "/board")
    page = f"{base}/v/xinglong" if base else ""
    stage.expect(not base or page in _urls(stage.world.bot_messages(chat)[-1]), "/board gave no link to the board")
    published = next(m for m in reversed(stage.world.bot_messages(chat))
                     if stage.facts["title"] in m.text and any(d.startswith("pp1:") for d in m.callback_data()))
    await stage.tap(staff, data=next(d for d in published.callback_data() if d.endswith(":a4")))
    await _settled(stage, lambda: bool(stage.world.bot_messages(chat)[-1].data.get("document")))
    poster = stage.world.bot_messages(chat)[-1].data["document"]
    stage.expect(poster["file_name"].endswith("-a4.pdf") and poster["file_size"] > 10_000, "no poster PDF")
    await stage.send_photo(staff, reply_to=published.message_id)
    stage.expect(bool(stage.told(staff, stage.facts["title"])), "the posting photo was not recorded")
    if base:
        shown = await _fetch(page)
        stage.expect(stage.facts["title"] in shown and stage.say_("posted") in shown,
                     f"the board at {page} does not show the notice as posted")


def _urls(message: FakeMessage) -> list[str]:
    return [str(button.get("url", "")) for row in message.data.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row]


async def _settled(stage: Stage, done: Callable[[], bool]) -> None:
    """A tap whose answer comes later than its acknowledgement (a PDF to make): wait for it, then for quiet."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + stage.timeout
    while not done():
        if loop.time() > deadline:
            raise StoryError(f"the bot did not finish within {stage.timeout:.0f} s")
        await asyncio.sleep(0.05)
    await stage.quiet()


async def _fetch(url: str) -> str:
    import aiohttp

    async with aiohttp.ClientSession() as client, client.get(url) as answer:
        if answer.status != 200:
            raise StoryError(f"{url} answered {answer.status}")
        return await answer.text()


async def chapter_deadlines(stage: Stage) -> None:
    """A quarter passes on a simulated clock (demo/clock.py says how, in and out of process): the daily
    scan reminds the clerk seven days before the quarter's disclosures fall due, with a "draft it now"
    button per item; one tap opens the draft with item and period filled in; it is reviewed and
    published like any notice, and /due shows the obligation met on time."""
    from demo.clock import quarter_reminder_time, story_clock

    staff, secretary, supervisor = stage.people["staff"], stage.people["secretary"], stage.people["supervisor"]
    clock = story_clock(stage.facts)
    when, quarter = quarter_reminder_time(clock.policy, clock.now())
    clock.set(when)
    await clock.run_scan()
    await stage.quiet()
    reminder, button = stage.find_button(stage.world.private_chat(staff), "", f"nd1|*|jyv:cw.1|{quarter}|0")
    stage.expect(quarter.words(stage.lang) in reminder.text and len(reminder.buttons) > 1,
                 "no reminder with its buttons")
    await stage.tap(staff, button["text"], data=button["callback_data"])
    title = stage.say_("title", period=quarter.words(stage.lang))
    await stage.send(staff, title)
    await stage.send(staff, stage.say_("body"))
    await stage.tap(staff, stage.ui("btn.done"))
    await stage.tap(staff, stage.ui("btn.table"))  # the finance statement: five columns, the sums checked
    await stage.send(staff, stage.say_("statement"))
    stage.expect(stage.say_("statement_row") in "\n".join(stage.texts_in(staff)[-2:]),
                 "the finance statement is not in the preview")
    await stage.tap(staff, stage.ui("btn.submit"))
    await stage.tap(secretary, stage.ui("btn.approve"))
    await stage.tap(supervisor, stage.ui("btn.approve"))
    for key in ("residents1", "residents2", "residents3"):
        stage.expect(bool(stage.told(stage.chats[key], title)), f"the notice did not reach {stage.chats[key].label}")
    item = clock.policy.item("jyv:cw.1")
    name = (item.en if stage.lang == "en" else item.zh) if item else ""
    met = [line for page in await _due_pages(stage, staff) for line in page.split("✅", 1)[-1].splitlines()[1:]
           if "✅" in page and name in line and quarter.words(stage.lang) in line]
    stage.expect(len(met) == 1, f"/due does not show {name} {quarter} as published")


async def _due_pages(stage: Stage, staff: FakeUser) -> list[str]:
    """/due, then every page of it through its "more" button (the message is edited in place)."""
    chat = stage.world.private_chat(staff)
    await stage.send(staff, "/due")
    listing = stage.world.bot_messages(chat)[-1]
    pages = [listing.text]
    for page in range(1, 10):
        current = next(m for m in stage.world.messages_in(chat) if m.message_id == listing.message_id)
        wanted = f"dpg:{page}"
        rows = current.data.get("reply_markup", {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == wanted for row in rows for button in row):
            break
        await stage.tap(staff, data=wanted)
        pages.append(next(m for m in stage.world.messages_in(chat) if m.message_id == listing.message_id).text)
    return pages


# ---------------------------------------------------------------------- 四议两公开, step by step

MATTER_SCRIPT: dict[str, dict[str, str]] = {
    "zh": {
        "ch.matter": "第六章 · 四议两公开：逐步记录一件事项，决议公开立即到期",
        "m_title": "村文化广场建设", "m_date": "日期", "m_body": "会议", "m_attendance": "到会", "m_for": "赞成",
        "m_against": "反对", "m_abstaining": "弃权", "m_text": "内容",
        "m_bodies": "村党支部委员会|村“两委”联席会议|村党员大会|村民代表会议",
        "m_texts": "提议建设村文化广场|同意提交党员大会审议|同意提交村民代表会议|"
                   "同意建设，预算25万元，由村委会组织实施",
    },
    "en": {
        "ch.matter": "Chapter 6 · Four deliberations, two disclosures: a matter recorded step by step, its "
                     "resolution due at once",
        "m_title": "A village culture square", "m_date": "date", "m_body": "meeting", "m_attendance": "attendance",
        "m_for": "for", "m_against": "against", "m_abstaining": "abstaining", "m_text": "text",
        "m_bodies": "Party branch committee|Joint meeting of the two committees|Party members' meeting|"
                    "Villagers' representatives meeting",
        "m_texts": "Build a culture square|Refer it to the party members|Refer it to the representatives|"
                   "Build it for 250,000 yuan, carried out by the villagers' committee",
    },
}
for _lang, _lines in MATTER_SCRIPT.items():
    SCRIPT[_lang].update(_lines)


async def chapter_matter(stage: Stage) -> None:
    """/matter: the staff record the four deliberations in order (date, body that met, attendance, votes,
    text); the decision makes the resolution owed the same day, and the path shows what is still owed."""
    from demo.clock import story_clock

    staff = stage.people["staff"]
    today = story_clock(stage.facts).now().date()
    await stage.send(staff, f"/matter {stage.say_('m_title')}")
    bodies, texts = stage.say_("m_bodies").split("|"), stage.say_("m_texts").split("|")
    for number, (body, text) in enumerate(zip(bodies, texts, strict=True)):
        await stage.tap(staff, data="mr1:*")
        held = today - timedelta(days=3 - number)
        lines = [f"{stage.say_('m_date')}: {held.isoformat()}", f"{stage.say_('m_body')}: {body}"]
        if number:  # the three meetings that vote
            lines += [f"{stage.say_(key)}: {count}" for key, count in
                      (("m_attendance", 30), ("m_for", 27), ("m_against", 2), ("m_abstaining", 1))]
        await stage.send(staff, "\n".join([*lines, f"{stage.say_('m_text')}: {text}"]))
    stage.expect(bool(stage.told(staff, "⏳", today.isoformat())),
                 "the resolution is not owed once the meeting decided")


# A later capability appends (script key of its title, its function); the order is the story's order.
CHAPTERS: list[tuple[str, Chapter]] = [
    ("ch.onboarding", chapter_onboarding),
    ("ch.notices", chapter_notices),
    ("ch.voice", chapter_voice),
    ("ch.board", chapter_board),
    ("ch.deadlines", chapter_deadlines),  # it moves the clock a quarter on
    ("ch.matter", chapter_matter),  # after it: its resolution, due at once, stays out of that chapter's reminder
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
        media = ["📷"] if message.data.get("photo") else []
        media += [f"📄 {message.data['document'].get('file_name', '')}"] if message.data.get("document") else []
        text = [" ".join([*media, *message.text.splitlines()[:1]]), *message.text.splitlines()[1:]]
        head = f"  {sender} {text[0]}" + (f"   ({', '.join(marks)})" if marks else "")
        lines = [head] + [f"     {line}" for line in text[1:]]
        if message.buttons:
            lines.append("     " + " ".join(f"[{label}]" for label in message.buttons))
        return lines


# ---------------------------------------------------------------------- the real bot, offline


@contextlib.asynccontextmanager
async def offline_bot(folder: Path, lang: str) -> AsyncIterator[Stage]:
    """The production BotApp polling the fake Bot API server over HTTP, on a fresh SQLite database."""
    from bot.base.settings import Settings
    from bot.process.app import BotApp, prepare
    from bot.process.wiring import build_bot

    world = FakeTelegram(DEMO_TOKEN, bot_id=int(DEMO_TOKEN.split(":")[0]))
    server = FakeBotAPIServer(world)
    url = await server.start()
    settings = Settings(_env_file=None, bot_token=DEMO_TOKEN, telegram_api_url=url,
                        database_url=f"sqlite+aiosqlite:///{folder / 'cunwu.db'}", admin_ids=[ADMIN_ID],
                        default_language=lang, redis_url=None)
    board = free_port()  # the bot's process serves the board (web/), as `cunwu run` does on WEB_PORT
    settings.public_base_url, settings.web_host, settings.web_port = f"http://127.0.0.1:{board}", "127.0.0.1", board
    runtime = await prepare(settings)
    app = BotApp(runtime, build_bot(runtime))
    # Polling takes updates out of the fake Telegram before they are handled (aiogram handles each in a task of
    # its own), so "no update waiting" cannot tell a slow handler on a busy machine from none: count them.
    in_flight = [0]

    async def counted(handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], event: Any,
                      data: dict[str, Any]) -> Any:
        in_flight[0] += 1
        try:
            return await handler(event, data)
        finally:
            in_flight[0] -= 1

    app.dispatcher.update.outer_middleware(counted)
    polling: asyncio.Task[None] | None = None
    try:
        await app.start_background()
        await app.serve_pages()
        polling = asyncio.create_task(app.dispatcher.start_polling(
            app.bot, handle_signals=False, close_bot_session=False, polling_timeout=5))
        stage = Stage(world, runtime.sessions, lang=lang, texts=runtime.texts, all_handled=lambda: not in_flight[0])
        stage.facts.update(board=settings.public_base_url, pages=runtime.pages())
        yield stage
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


async def play(lang: str = "zh", board_dir: Path = Path("demo-board"), serve: bool = False) -> int:
    """The story, then the demo village's board: written to `board_dir` as files (pages and PDF posters, so the
    demo ends by itself, as CI needs), and with `serve` also left served by the bot until Ctrl-C."""
    from web.export import export_board

    loop = asyncio.get_running_loop()
    started = loop.time()
    quiet_logs()
    try:
        with tempfile.TemporaryDirectory(prefix="cunwu-demo-") as folder:
            async with offline_bot(Path(folder), lang) as stage:
                await play_story(stage, out=print)
                page = await export_board(stage.facts["pages"], board_dir, "xinglong")
                print("\n" + SCRIPT[lang]["done"].format(chapters=len(CHAPTERS), seconds=loop.time() - started))
                print(SCRIPT[lang]["board_written"].format(folder=board_dir.resolve(), page=page.as_uri()))
                if serve:
                    print(SCRIPT[lang]["board_served"].format(url=f"{stage.facts['board']}/v/xinglong"), flush=True)
                    await asyncio.Event().wait()  # until Ctrl-C
    except (KeyboardInterrupt, asyncio.CancelledError):
        return 0
    except Exception as error:  # the demo's contract: one line and a non-zero exit
        print(f"cunwu demo: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return 1
    return 0



def quiet_logs() -> None:
    """The transcript is the demo's output; routine INFO lines from aiogram and aiohttp would bury it."""
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))
