"""A review request too long for one message goes out in parts, the buttons under the last; after a decision
every part is rewritten into the record (issue 12, point 3), so no earlier part still says "please review"."""

from __future__ import annotations

from tests.harness import Harness
from tests.notice_fixtures import seed_village

LINE = "第{n}项：村道维修支出明细，材料费、人工费、机械费合计金额见附表，经村务监督委员会核对无误。\n"


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
        await h.say(staff, "".join(LINE.format(n=n) for n in range(start + 1, start + 61)))
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
