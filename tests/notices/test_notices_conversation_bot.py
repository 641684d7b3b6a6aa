"""Commands in the middle of a conversation, through the real Dispatcher: they leave the conversation (what
it collected stays in the database) and run, instead of being answered with "send /drafts"."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import Notice
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_notices_bot import draft_notice

LEFT_DRAFT = "已离开起草，草稿已保存（发送 /drafts 可以继续编辑）。"


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


async def test_drafts_review_and_archive_work_in_the_middle_of_a_draft(harness: Harness, cast: Cast) -> None:
    h = harness
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.tap(staff, "临时公开")
    await h.say(staff, "村道维修公示")
    assert "请发送正文" in h.last(staff)
    await h.say(staff, "/drafts")
    assert h.texts(staff)[-2] == LEFT_DRAFT
    assert h.last(staff).startswith("#") and "村道维修公示" in h.last(staff) and "草稿" in h.last(staff)
    await h.say(staff, "这句话不是正文")
    assert "我没有明白" in h.last(staff)  # the conversation was left: nothing went into the draft
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
    assert notice.title == "村道维修公示" and notice.body == ""

    await h.tap(staff, "继续编辑")
    await h.tap(staff, "改正文")
    await h.say(staff, "/review")
    assert h.texts(staff)[-2] == LEFT_DRAFT and h.last(staff) == "目前没有等待您审核的内容。"
    await h.tap(staff, "改正文")
    await h.say(staff, "/archive")
    assert h.texts(staff)[-2] == LEFT_DRAFT and "兴隆村 · 2026年第二季度 已公开内容" in h.last(staff)
    await h.tap(staff, "改正文")
    await h.say(staff, "/draft")
    assert h.texts(staff)[-2] == LEFT_DRAFT and "请选择公开事项的类别" in h.last(staff)


async def test_help_keeps_the_draft_going_and_an_unknown_command_is_named(harness: Harness, cast: Cast) -> None:
    h = harness
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.tap(staff, "临时公开")
    await h.say(staff, "/help")
    assert "可用命令" in h.last(staff)
    await h.say(staff, "标题在帮助之后")  # /help answers and the conversation goes on
    assert "请发送正文" in h.last(staff)
    await h.say(staff, "/frobnicate")
    assert h.texts(staff)[-2] == LEFT_DRAFT and "没有这个命令" in h.last(staff)


async def test_a_reviewer_asked_for_a_reason_may_send_a_command(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "退回修改")
    assert "请说明需要修改的地方" in h.last(cast.secretary)
    await h.say(cast.secretary, "/review")
    texts = h.texts(cast.secretary)
    assert "已离开填写理由" in texts[-3] and "村级财务收支情况" in texts[-2]
    await h.tap(cast.secretary, "退回修改")  # the button under /review's listing
    await h.say(cast.secretary, "请补充支出明细")
    assert "已退回修改" in h.last(cast.secretary) and "请补充支出明细" in h.last(cast.staff)
