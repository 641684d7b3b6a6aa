"""Every privileged command and every kind of button, tried by someone who may not: refused on the server,
told so in their language, and nothing changes in the database (docs/security.md lists who may do what).

The forged taps carry real ids of real rows (a notice in review, a published notice, a question, a
petition, a join request): what a modified client could send, with the data the callback factories make.
Through the production Dispatcher (tests/harness.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlmodel import SQLModel, col, select

from bot.ui.keyboards.board import PosterRequest, PosterSize
from bot.ui.keyboards.common import BindVillage, InviteRole, InviteVillage, JoinDecision
from bot.ui.keyboards.deadlines import (
    DraftNothing,
    EventItem,
    EventItemPage,
    EventKind,
    EventVillage,
    NagDraft,
    NagNothing,
    NagSnooze,
)
from bot.ui.keyboards.notices import (
    DraftAction,
    DraftClass,
    DraftItem,
    DraftPage,
    DraftPeriod,
    DraftVillage,
    Manage,
    PrivacyAllow,
    Retract,
    Review,
)
from bot.ui.keyboards.voice import PetitionDecide, PetitionItem, PetitionSign, QuestionAct, QuestionSend
from fake_telegram import FakeChat, FakeUser
from models import (
    AuditEntry,
    BoardSetting,
    BoundChat,
    FsmRecord,
    Invite,
    Notice,
    OutboxMessage,
    Petition,
    Posting,
    PostingProof,
    Question,
    ReviewDecision,
    RoleGrant,
    Signature,
    Snooze,
    Village,
)
from models.obligations import Obligation
from services.people import directory
from services.voice import petitions, questions
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_notices_bot import draft_notice

WATCHED: list[type[SQLModel]] = [Village, Invite, RoleGrant, BoundChat, Notice, ReviewDecision, AuditEntry, Posting,
                                 OutboxMessage, Question, Petition, Signature, Obligation, Snooze, FsmRecord,
                                 PostingProof, BoardSetting]
NOT_ROLE = "没有“"  # err.not_role: 您在这里没有“{role}”身份，不能进行此操作。
STALE = "已失效"  # err.stale_button
NOT_RESIDENT = "只有本村（社区）已确认的村民"  # voice.not_resident
UNKNOWN = "没有这个命令"  # err.unknown_command: the admin router does not even match
NOT_AUTHOR = "这不是您起草的内容"  # a draft is its author's until submitted


@dataclass
class World:
    """The village of tests/notice_fixtures.py with one of everything a button can point at."""

    cast: Cast
    stranger: FakeUser
    village: int
    published: int  # a published notice (manage, retract, questions)
    in_review: int  # a notice waiting for the secretary (stage 0)
    draft: int  # a draft of the staff's
    question: int
    petition: int  # proposed, waiting for staff
    open_petition: int  # confirmed: open for signatures
    join_request: int  # a pending resident grant
    h: Harness


async def _rows(h: Harness) -> dict[str, list[dict[str, Any]]]:
    async with h.runtime.sessions() as session:
        found = {}
        for model in WATCHED:
            rows = await session.exec(select(model))
            found[model.__name__] = sorted((row.model_dump() for row in rows), key=repr)
        return found


async def _ids(h: Harness, model: Any, **where: Any) -> list[int]:
    async with h.runtime.sessions() as session:
        query = select(model).where(*(getattr(model, k) == v for k, v in where.items())).order_by(col(model.id))
        return [row.id for row in await session.exec(query)]


@pytest.fixture
async def world(harness: Harness) -> World:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    stranger = h.world.new_user("路人")
    await h.say(stranger, "/start")
    await draft_notice(h, cast, title="第一份公开")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    await draft_notice(h, cast, title="第二份公开")
    await h.tap(cast.staff, "提交审核")
    await draft_notice(h, cast, title="第三份公开")
    published, in_review, draft = await _ids(h, Notice)
    village = (await _ids(h, Village, code="xinglong"))[0]
    async with h.runtime.sessions() as session:
        resident = await directory.get_or_create_person(session, cast.resident.id, "李大爷", None)
        staff = await directory.get_or_create_person(session, cast.staff.id, "王会计", None)
        now = h.runtime.clock.now()
        limits = h.runtime.settings
        question = await questions.ask(session, h.runtime.policy, resident, published, "账目里的道路维修是哪一段？",
                                       None, False, now, limits.question_daily_limit)
        proposed = await petitions.create(session, h.runtime.policy, resident, village, "公开低保名单",
                                          "请公开今年的低保名单。", None, now, limits.petition_daily_limit)
        opened = await petitions.create(session, h.runtime.policy, resident, village, "公开修路账目",
                                        "请公开修路的全部账目。", None, now, limits.petition_daily_limit)
        await session.flush()
        await petitions.confirm(session, h.runtime.policy, staff, opened.id or 0, now, 60)
        await session.commit()
        question_id, proposed_id, opened_id = question.id or 0, proposed.id or 0, opened.id or 0
    await h.flush()
    await h.open_link(stranger, f"j_{village}")  # a join request the staff of xinglong decide
    join_request = (await _ids(h, RoleGrant, person_id=await _person_id(h, stranger)))[0]
    return World(cast, stranger, village, published, in_review, draft, question_id, proposed_id, opened_id,
                 join_request, h)


async def _person_id(h: Harness, user: FakeUser) -> int:
    async with h.runtime.sessions() as session:
        return (await directory.get_or_create_person(session, user.id, user.full_name, None)).id or 0


# --- every kind of button, forged by someone who may not ----------------------------------------------------

def _taps(w: World) -> dict[str, tuple[FakeUser, CallbackData, str, FakeChat | None]]:
    """kind -> (who taps, the data, what they must be told, the chat when not their private chat)."""
    c = w.cast
    return {
        "jd1 join decision: staff of another village": (c.rival, JoinDecision(grant_id=w.join_request, approve=True),
                                                        NOT_ROLE, None),
        "bv1 bind picked village: a resident": (c.resident, BindVillage(village_id=w.village), NOT_ROLE, c.groups[0]),
        "iv1 invite village: not an admin": (c.staff, InviteVillage(village_id=w.village), STALE, None),
        "ir2 invite role: not an admin": (c.staff, InviteRole(village_id=w.village, index=1), STALE, None),
        "dv1 draft village: a resident": (c.resident, DraftVillage(village_id=w.village), NOT_ROLE, None),
        "dc1 draft class (creates a draft): a resident": (c.resident, DraftClass(village_id=w.village, klass="_adhoc"),
                                                          NOT_ROLE, None),
        "dp1 draft page: a resident": (c.resident, DraftPage(village_id=w.village, klass="cw", page=1), NOT_ROLE, None),
        "di1 draft item (creates a draft): staff of another village": (
            c.rival, DraftItem(village_id=w.village, item="cw.1"), NOT_ROLE, None),
        "dq1 draft period: staff of another village": (c.rival, DraftPeriod(notice_id=w.draft, period="2026Q1"),
                                                       NOT_AUTHOR, None),
        "da1 draft action submit: staff of another village": (c.rival, DraftAction(notice_id=w.draft, action="submit"),
                                                              NOT_AUTHOR, None),
        "da1 draft action discard: the secretary": (c.secretary, DraftAction(notice_id=w.draft, action="discard"),
                                                    NOT_AUTHOR, None),
        "rv1 review: secretary of another village": (
            c.rival_secretary, Review(notice_id=w.in_review, version=1, stage=0, decision="approve"), NOT_ROLE, None),
        "rv1 review: the next stage's reviewer too early": (
            c.supervisor, Review(notice_id=w.in_review, version=1, stage=0, decision="approve"), NOT_ROLE, None),
        "rv1 review: the author": (c.staff, Review(notice_id=w.in_review, version=1, stage=0, decision="approve"),
                                   NOT_ROLE, None),
        "pa2 privacy allow: not a supervisor": (
            c.secretary, PrivacyAllow(notice_id=w.in_review, key="0123456789"), NOT_ROLE, None),
        "rt1 retraction approval: a resident": (c.resident, Retract(notice_id=w.published), NOT_ROLE, None),
        "mg1 correct a published notice: a resident": (c.resident, Manage(notice_id=w.published, action="correct"),
                                                       NOT_ROLE, None),
        "mg1 retract a published notice: staff of another village": (
            c.rival, Manage(notice_id=w.published, action="retract"), NOT_ROLE, None),
        "qs1 send a question: without writing one": (w.stranger, QuestionSend(notice_id=w.published, complaint=False),
                                                     STALE, None),
        "qa1 act on a question: a resident": (c.resident, QuestionAct(question_id=w.question, action="close"),
                                              NOT_ROLE, None),
        "qa1 act on a question: staff of another village": (
            c.rival, QuestionAct(question_id=w.question, action="reply"), NOT_ROLE, None),
        "pi1 petition item: without a petition in progress": (w.stranger, PetitionItem(village_id=w.village,
                                                                                       item="_skip"), STALE, None),
        "pd1 confirm a petition: a resident": (c.resident, PetitionDecide(petition_id=w.petition, approve=True),
                                               NOT_ROLE, None),
        "pd1 refuse a petition: staff of another village": (
            c.rival, PetitionDecide(petition_id=w.petition, approve=False), NOT_ROLE, None),
        "ps1 sign a petition: not a resident of the village": (
            w.stranger, PetitionSign(petition_id=w.open_petition, action="sign"), NOT_RESIDENT, None),
        "nd1 draft from a reminder: staff of another village": (
            c.rival, NagDraft(village_id=w.village, item="jyv:cw.1", period="2026Q1", ob=0), NOT_ROLE, None),
        "nz1 snooze a reminder: a resident": (
            c.resident, NagSnooze(village_id=w.village, item="jyv:cw.1", period="2026Q1", ob=0), NOT_ROLE, None),
        "ev1 event village: a resident": (c.resident, EventVillage(village_id=w.village), NOT_ROLE, None),
        "ek1 event kind: staff of another village": (c.rival, EventKind(village_id=w.village, kind="meeting"),
                                                     NOT_ROLE, None),
        "ei1 event item: a resident": (c.resident, EventItem(village_id=w.village, kind="meeting", item="sw.6"),
                                       NOT_ROLE, None),
        "ep1 event items, next page: staff of another village": (
            c.rival, EventItemPage(village_id=w.village, kind="meeting", page=1), NOT_ROLE, None),
        "nn1 nothing to disclose, from a reminder: a resident": (
            c.resident, NagNothing(village_id=w.village, item="jyv:cw.1", period="2026Q1"), NOT_ROLE, None),
        "dn1 nothing to disclose, in a draft: the secretary": (c.secretary, DraftNothing(notice_id=w.draft),
                                                               NOT_AUTHOR, None),
        "pp1 a notice's poster: a resident": (c.resident, PosterRequest(notice_id=w.published, size=PosterSize.A4),
                                              NOT_ROLE, None),
        "pp1 a notice's poster: staff of another village": (
            c.rival, PosterRequest(notice_id=w.published, size=PosterSize.A3), NOT_ROLE, None),
    }


async def test_forged_taps_are_refused_and_change_nothing(world: World) -> None:
    """One world, every case in turn (building the world per case would cost minutes); a failure names
    every case that failed."""
    h, failed = world.h, []
    for case, (who, data, told, chat) in _taps(world).items():
        chat = chat or h.world.private_chat(who)
        before = await _rows(h)
        message_id = h.world.messages_in(chat)[-1].message_id if h.world.messages_in(chat) else 1
        await h.forge_tap(who, chat, message_id, data.pack())
        await h.flush()
        if told not in h.last_alert() and told not in h.last(chat):
            failed.append(f"{case}: told {h.last_alert() or h.last(chat)!r}")
        elif await _rows(h) != before:
            failed.append(f"{case}: the database changed")
    assert not failed, "\n".join(failed)


# --- every privileged command, sent by someone who may not --------------------------------------------------

COMMANDS = {
    "/newvillage: not an admin": ("staff", "/newvillage hongqi x9 某村", UNKNOWN, "private"),
    "/invite: not an admin": ("staff", "/invite xinglong", UNKNOWN, "private"),
    "/bind: a resident in a group": ("resident", "/bind", NOT_ROLE, "group"),
    "/bind filing: staff, not an inspector": ("staff", "/bind filing", NOT_ROLE, "filing"),
    "/draft: a resident": ("resident", "/draft", NOT_ROLE, "private"),
    "/event: a resident": ("resident", "/event", NOT_ROLE, "private"),
    "/due: a resident": ("resident", "/due", NOT_ROLE, "private"),
    "/report: staff, not an inspector": ("staff", "/report", NOT_ROLE, "private"),
    "/petition: not a resident": ("stranger", "/petition", NOT_RESIDENT, "private"),
    "/digest: a resident": ("resident", "/digest", NOT_ROLE, "private"),
    "/questions: a resident": ("resident", "/questions", NOT_ROLE, "private"),
    "/archive: someone of no village": ("stranger", "/archive", "还没有加入任何村", "private"),
}


async def test_privileged_commands_are_refused_and_change_nothing(world: World) -> None:
    h, c, failed = world.h, world.cast, []
    for case, (who_name, text, told, where) in COMMANDS.items():
        who = world.stranger if who_name == "stranger" else getattr(c, who_name)
        chat = {"private": h.world.private_chat(who), "group": c.groups[0], "filing": c.filing}[where]
        before = await _rows(h)
        await h.say(who, text, chat=chat)
        if told not in h.last(chat):
            failed.append(f"{case}: told {h.last(chat)!r}")
        elif await _rows(h) != before:
            failed.append(f"{case}: the database changed")
    assert not failed, "\n".join(failed)


async def test_lists_show_only_what_the_person_may_act_on(world: World) -> None:
    """/pending, /review, /drafts and /archive of someone without the role show nothing of the village's."""
    h, c = world.h, world.cast
    await h.say(c.rival, "/pending")
    assert "路人" not in h.last(c.rival)
    await h.say(c.resident, "/review")
    assert "第二份公开" not in "\n".join(h.texts(c.resident))
    await h.say(c.rival, "/drafts")
    assert "第三份公开" not in "\n".join(h.texts(c.rival))
    await h.say(c.resident, "/archive")
    shown = [m for m in h.world.bot_messages(h.world.private_chat(c.resident))][-3:]
    staff_only = ("更正", "撤回")  # the archive without the staff's correct/retract buttons (a tap opens a notice)
    assert not any(word in b for m in shown for b in m.buttons for word in staff_only)


# --- anonymous group admins ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["/bind", "/bind filing"])
async def test_an_anonymous_group_admin_cannot_bind(world: World, text: str) -> None:
    """Telegram hides which admin posted "as the group", so nobody's role can be checked: refused."""
    h = world.h
    group = h.world.new_group("新的村民群", members=[world.cast.staff, world.cast.inspector], supergroup=True)
    h.world.add_bot_to_group(group, admin=True, can_pin=True)
    await h.flush()
    before = await _rows(h)
    h.world.admin_sends_anonymously(group, text)
    await h.flush()
    assert "不要以匿名管理员身份" in h.last(group)
    assert await _rows(h) == before
    await h.say(world.cast.staff if text == "/bind" else world.cast.inspector, text, chat=group)
    assert "不要以匿名管理员身份" not in h.last(group) and "没有“" not in h.last(group)  # from the own account: fine


async def test_one_join_request_at_a_time(world: World) -> None:
    """A person's request to join waits for the staff; asking again, by link or by code, adds nothing."""
    h = world.h
    before = await _rows(h)
    await h.open_link(world.stranger, f"j_{world.village}")
    assert "正在等待工作人员确认" in h.last(world.stranger)
    await h.say(world.stranger, "/join xinglong")
    assert "正在等待工作人员确认" in h.last(world.stranger)
    assert await _rows(h) == before
