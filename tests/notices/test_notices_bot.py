"""The heart of the product through the real Dispatcher: staff drafts, two approvals, broadcast to three
groups plus the filing group, pinned; and the bad inputs of the notices issue."""

from __future__ import annotations

from sqlmodel import col, select

from fake_telegram import FakeChat
from models import AuditEntry, Notice, Posting
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village


async def draft_notice(h: Harness, cast: Cast, title: str = "2026年第一季度村级财务收支情况",
                       body: str = "本季度收入12万元，支出8万元，明细见下表。") -> None:
    staff = cast.staff
    await h.say(staff, "/draft")
    await h.tap(staff, "财务类")
    await h.tap(staff, "1. 村级财务收支情况")
    assert "建议：2026年第一季度" in h.last(staff)
    # finished quarters, most recent first, then the current one marked as not yet ended (2026-04-03)
    picker = h.world.bot_messages(h.world.private_chat(staff))[-1]
    assert picker.buttons == ["2026年第一季度", "2025年第四季度", "2025年第三季度", "2026年第二季度（尚未结束）"]
    await h.tap(staff, "2026年第一季度")
    await h.say(staff, title)
    await h.say(staff, body)
    await h.tap(staff, "完成")


async def test_draft_review_publish_broadcast_pin(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await draft_notice(h, cast)
    preview = "\n".join(h.texts(cast.staff)[-2:])
    assert "兴隆村村民委员会" in preview and "类别：财务类 · 村级财务收支情况 · 2026年第一季度" in preview
    assert "2026Q1" not in preview
    await h.tap(cast.staff, "提交审核")
    assert "等待党组织书记审核" in h.last(cast.staff)
    assert "请审核" in h.last(cast.secretary) and "第 1/2 环节" in h.last(cast.secretary)
    await h.tap(cast.secretary, "同意")
    assert "请审核" in h.last(cast.supervisor) and "请审核" in h.last(cast.supervisor2)
    _, stale = h.find_button(h.world.private_chat(cast.supervisor2), "同意")  # tapped below, once decided
    assert any("审核通过，进入第 2/2 环节" in t for t in h.texts(cast.staff))
    await h.tap(cast.supervisor, "同意")
    for group in cast.groups:
        posted = h.world.bot_messages(group)[-1]
        assert "2026年第一季度村级财务收支情况" in posted.text
        assert "党组织书记 张书记" in posted.text and "村务监督委员会成员 刘监委" in posted.text
        assert "公示期至：2026-04-13" in posted.text  # jiangyuan keeps postings 10 days (T-KEEP10)
        assert [m.message_id for m in h.world.pinned(group)] == [posted.message_id]
        assert "我要提问" in " ".join(posted.buttons)
    filing = h.world.bot_messages(cast.filing)[-1]
    assert "【备案】" in filing.text and not h.world.pinned(cast.filing)
    assert "发送完成：4/4" in h.texts(cast.staff)[-2] or any("发送完成：4/4" in t for t in h.texts(cast.staff))
    # the second supervisor's copy now records who decided (buttons gone); an old tap still says who decided
    chat = h.world.private_chat(cast.supervisor2)
    record = h.world.bot_messages(chat)[-1]
    assert "✅ 已审核通过：刘监委，2026-04-03 10:00" in record.text and not record.buttons
    await h.forge_tap(cast.supervisor2, chat, record.message_id, stale)
    assert h.last_alert() == "已由 刘监委 于 2026-04-03 10:00 处理。"  # village time (02:00 UTC)
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
        postings = list(await session.exec(select(Posting)))
        actions = [a.action for a in await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))]
    assert notice.state == "published" and notice.period == "2026Q1" and notice.item_id == "jyv:cw.1"
    assert sorted(p.state for p in postings) == ["posted"] * 4
    assert actions[0] == "create" and actions[-3:] == ["submit", "approve", "publish"]


def _keyboard_labels(h: Harness, chat: FakeChat) -> list[str]:
    """The button labels of the newest message in the chat that has a keyboard."""
    for message in reversed(h.world.messages_in(chat)):
        rows = message.data.get("reply_markup", {}).get("inline_keyboard", [])
        if rows:
            return [button["text"] for row in rows for button in row]
    return []


async def test_catalog_items_are_paged_six_at_a_time(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    staff = cast.staff
    chat = h.world.private_chat(staff)
    await h.say(staff, "/draft")
    await h.tap(staff, "事务类")
    first = _keyboard_labels(h, chat)
    assert [label.split(".")[0] for label in first[:6]] == ["1", "2", "3", "4", "5", "6"]
    assert first[6:] == ["下一页 ▶"]  # the first page: no way back
    await h.tap(staff, "下一页")
    second = _keyboard_labels(h, chat)
    assert [label.split(".")[0] for label in second[:6]] == ["7", "8", "9", "10", "11", "12"]
    assert second[6:] == ["◀ 上一页", "下一页 ▶"]
    await h.tap(staff, "上一页")
    assert _keyboard_labels(h, chat) == first
