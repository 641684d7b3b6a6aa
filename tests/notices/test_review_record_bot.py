"""The reviewers' record (issue 12, point 3): each copy of a review request is edited in place to say what was
decided, by whom and when; the author hears the stages, then the publication, then the delivery summary, in that
order; a returned draft and a privacy confirmation carry a button back into the draft."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import Notice
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.notices.test_notices_bot import draft_notice


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


def _request(h: Harness, user: object) -> object:
    """The newest review request (or record) in the person's private chat."""
    chat = h.world.private_chat(user)  # type: ignore[arg-type]
    return next(m for m in reversed(h.world.bot_messages(chat)) if "审核" in m.text and "环节" in m.text)


async def test_every_copy_of_a_request_shows_the_decision_who_and_when(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    first = _request(h, cast.secretary)
    assert first.edited and "审核记录" in first.text and "请审核" not in first.text  # type: ignore[attr-defined]
    assert "✅ 已审核通过：张书记，2026-04-03 10:00" in first.text  # type: ignore[attr-defined]
    assert not first.data.get("reply_markup")  # type: ignore[attr-defined]
    # two supervisors were asked; one decides, and both copies say so
    await h.tap(cast.supervisor2, "退回修改")
    await h.say(cast.supervisor2, "请补充支出明细")
    for member in (cast.supervisor, cast.supervisor2):
        copy = _request(h, member)
        assert "↩️ 已退回修改：陈监委，2026-04-03 10:00" in copy.text  # type: ignore[attr-defined]
        assert "理由：请补充支出明细" in copy.text and not copy.data.get("reply_markup")  # type: ignore[attr-defined]
    # the other member's buttons are gone; the author goes straight back into the draft
    assert "退回修改" in h.last(cast.staff) and "/drafts" not in h.last(cast.staff)
    await h.tap(cast.staff, "继续编辑")
    assert "提交审核" in str(h.world.last_message(h.world.private_chat(cast.staff)).data)  # type: ignore[union-attr]


async def test_the_author_hears_stages_then_publication_then_delivery(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    before = len(h.texts(cast.staff))
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    heard = h.texts(cast.staff)[before:]
    stage = next(i for i, t in enumerate(heard) if "进入第 2/2 环节" in t)
    published = next(i for i, t in enumerate(heard) if "审核通过并发布" in t)
    delivered = next(i for i, t in enumerate(heard) if "发送完成" in t)
    assert stage < published < delivered, heard


async def test_review_footer_of_the_review_command_is_rewritten_too(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    await h.say(cast.secretary, "/review")
    footer = h.world.last_message(h.world.private_chat(cast.secretary))
    assert footer is not None and "⬆️ 请审核" in footer.text
    await h.tap(cast.secretary, "不予公开")
    await h.say(cast.secretary, "数据有误")
    footer = next(m for m in h.world.bot_messages(h.world.private_chat(cast.secretary))
                  if m.message_id == footer.message_id)
    assert "⛔ 已决定不予公开：张书记" in footer.text and "理由：数据有误" in footer.text
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(Notice))).one().state == "rejected"


async def test_a_privacy_confirmation_brings_the_clerk_back_into_the_draft(harness: Harness, cast: Cast) -> None:
    h = harness
    await draft_notice(h, cast, body="村委会办公电话：0439-5123456。")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.staff, "请监委会确认")
    await h.tap(cast.supervisor, "固定电话")
    await h.say(cast.supervisor, "村委会公开的办公电话")
    assert "现在可以提交审核了" in h.last(cast.staff) and "/drafts" not in h.last(cast.staff)
    await h.tap(cast.staff, "继续编辑")
    await h.tap(cast.staff, "提交审核")
    assert "请审核" in h.last(cast.secretary)


# A review request too long for one message goes out in parts, the buttons under the last; after a decision
# every part is rewritten into the record, so no earlier part still says "please review".
LONG_LINE = "第{n}项：村道维修支出明细，材料费、人工费、机械费合计金额见附表，经村务监督委员会核对无误。\n"


async def test_every_part_of_a_long_request_becomes_the_record(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.tap(staff, "财务类")
    await h.tap(staff, "1. 村级财务收支情况")
    await h.tap(staff, "2026年第一季度")
    await h.say(staff, "2026年第一季度村级财务收支情况")
    for start in (0, 60):  # two messages of body text, about 5,000 characters in all
        await h.say(staff, "".join(LONG_LINE.format(n=n) for n in range(start + 1, start + 61)))
    await h.tap(staff, "完成")
    await h.tap(staff, "提交审核")
    chat = h.world.private_chat(cast.secretary)
    parts = [m for m in h.world.bot_messages(chat) if "第1项" in m.text or "第120项" in m.text]
    assert len(parts) == 2 and "请审核" in parts[0].text and "请审核" not in parts[1].text
    assert not parts[0].data.get("reply_markup") and parts[1].data.get("reply_markup")
    await h.tap(cast.secretary, "同意")
    first, last = (next(m for m in h.world.bot_messages(chat) if m.message_id == p.message_id) for p in parts)
    assert first.edited and first.text.startswith("🗂 审核记录") and "第1项" in first.text
    assert last.edited and "✅ 已审核通过：张书记" in last.text and "第120项" in last.text
    assert not last.data.get("reply_markup")
    assert all("请审核" not in m.text for m in h.world.bot_messages(chat))
