"""四议两公开 recorded step by step through the real Dispatcher (/matter, issue 16): the order of the four
deliberations, votes that must add up, the resolution owed at once and nagged, the result owed on completion
(or after the configured period, a local reading), and the path shown with the published disclosure."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select

from bot.ui.keyboards.matters import MatterRecord
from fake_telegram import FakeUser
from models import Matter, MatterStep, Notice, Obligation
from services.deadlines import nags
from services.people import directory
from services.people.roles import Role
from tests.harness import Harness
from tests.web.helpers import board_client, get


async def _village(h: Harness) -> dict[str, FakeUser]:
    users = {name: h.world.new_user(label) for name, label in
             (("staff", "王会计"), ("secretary", "李书记"), ("supervisor", "赵监委"))}
    for user in users.values():
        await h.say(user, "/start")
    async with h.runtime.sessions() as session:
        village = await directory.create_village(session, "hongqi", "xinglong", "兴隆村")
        village.created_at = h.runtime.clock.now() - timedelta(days=30)
        for role, user in users.items():
            person = await directory.get_or_create_person(session, user.id, user.first_name, None)
            await directory.grant_role(session, person.id or 0, Role(role), village_id=village.id)
        await session.commit()
    return users


FORMS = {
    "党组织提议": "日期：2026-03-20\n会议：村党支部委员会\n内容：硬化村东至村西道路 2 公里",
    "两委商议": ("日期：2026-03-23\n会议：村“两委”联席会议\n到会：7\n赞成：7\n反对：0\n弃权：0\n"
             "内容：同意提交党员大会审议"),
    "党员大会审议": ("日期：2026-03-26\n会议：村党员大会\n到会：25\n赞成：23\n反对：1\n弃权：1\n"
               "内容：同意提交村民代表会议"),
    "村民(代表)会议决议": ("日期：2026-04-01\n会议：村民代表会议\n到会：35\n赞成：31\n反对：2\n弃权：2\n"
                   "内容：村道硬化工程由村委会组织实施，预算 40 万元"),
}


async def test_a_matter_through_the_four_deliberations_and_two_disclosures(harness: Harness) -> None:
    h = harness
    users = await _village(h)
    staff, secretary, supervisor = users["staff"], users["secretary"], users["supervisor"]
    await h.say(staff, "/matter 村道硬化工程")
    assert "已新建事项：村道硬化工程" in "\n".join(h.texts(staff)[-2:])
    assert "▫️ 两委商议" in h.last(staff) and "▫️ 决议公开" in h.last(staff)
    async with h.runtime.sessions() as session:
        matter = (await session.exec(select(Matter))).one()
    # a resolution recorded before its discussion: refused with the reason (a forged or stale button)
    chat = h.world.private_chat(staff)
    message, _ = h.find_button(chat, "记录：党组织提议")
    await h.forge_tap(staff, chat, message.message_id, MatterRecord(matter_id=matter.id or 0, step="decide").pack())
    assert "还不能记录“村民(代表)会议决议”：请先记录“党组织提议”" in h.last_alert() + h.last(staff)
    for step, form in FORMS.items():
        await h.tap(staff, f"记录：{step}")
        assert "请复制下面的格式" in h.last(staff)
        if step == "两委商议":  # votes larger than the attendance
            await h.say(staff, form.replace("赞成：7", "赞成：8"))
            assert h.last(staff) == "票数不对：赞成、反对、弃权合计 8 票，多于到会的 7 人。"
        await h.say(staff, form)
        assert f"✅ {step}：" in h.last(staff)
    path = h.last(staff)
    assert "✅ 村民(代表)会议决议：2026-04-01 · 村民代表会议 · 到会 35 人 · 赞成 31、反对 2、弃权 2" in path
    assert "⏳ 决议公开：2026-04-01 前公开" in path  # T-NOW: the day of the deciding meeting
    assert "⏳ 实施结果公开：2026-07-10 前公开（本地解读" in path  # 90 days + 10 at the latest: a local reading
    async with h.runtime.sessions() as session:
        steps = list(await session.exec(select(MatterStep).order_by(col(MatterStep.held_on))))
        owed = list(await session.exec(select(Obligation).where(Obligation.source == "matter")))
    assert [s.step for s in steps] == ["propose", "discuss", "review", "decide"]
    assert (steps[-1].attendance, steps[-1].votes_for, steps[-1].votes_against) == (35, 31, 2)
    assert sorted((o.rule, o.due) for o in owed) == [("adhoc", date(2026, 7, 10)), ("immediate", date(2026, 4, 1))]
    # the resolution is owed at once: /due lists it overdue, the nag scan tells the staff
    await h.say(staff, "/due")
    assert "🔴 已逾期（1 项）\n• 决议公开：村道硬化工程，应于 2026-04-01 前" in h.last(staff)
    async with h.runtime.sessions() as session:
        await nags.daily_scan(session, h.runtime.policy, h.runtime.clock.now())
        await session.commit()
    await h.worker.run_until_idle()
    assert "1. 决议公开：村道硬化工程：已逾期 2 天" in h.last(staff)
    # completion recorded: the result is owed 10 days after it instead of after the period
    await h.tap(staff, "记录实施完成")
    await h.say(staff, "2026-04-02")
    assert "已记录实施完成（2026-04-02），实施结果须在 2026-04-12 前公开。" in "\n".join(h.texts(staff)[-2:])
    assert "⏳ 实施结果公开：2026-04-12 前公开（本地解读" in h.last(staff)
    # the resolution published through the nag's "draft it now": the obligation is met, the path says so
    await h.tap(staff, "起草 1：决议公开")
    await h.say(staff, "村道硬化工程决议")
    await h.say(staff, "经村民代表会议决议，村道硬化工程由村委会组织实施，预算 40 万元。")
    await h.tap(staff, "完成")
    await h.tap(staff, "提交审核")
    await h.tap(secretary, "同意")
    await h.tap(supervisor, "同意")
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
        resolution = (await session.exec(select(Obligation).where(Obligation.rule == "immediate"))).one()
    assert notice.state == "published" and resolution.met_notice_id == notice.id
    await h.say(staff, "/matter")
    assert "✅ 决议公开：已公开" in h.last(staff)
    # the board and the archive show the matter's whole path beside the published resolution
    async with board_client(h) as (client, _):
        page = (await get(client, f"/v/xinglong/n/{notice.id}")).text
        english = (await get(client, f"/v/xinglong/n/{notice.id}?lang=en")).text
    assert "<h2>四议两公开</h2>" in page and "党组织提议：2026年3月20日 · 村党支部委员会" in page
    assert "村民(代表)会议决议：2026年4月1日 · 村民代表会议 · 到会 35 人 · 赞成 31、反对 2、弃权 2" in page
    assert "决议公开：已公开" in page and "实施结果公开" in page
    assert "The villagers&#39; (representatives&#39;) meeting decides: 1 April 2026" in english
    await h.say(secretary, "/archive")
    archive = h.last(secretary)
    assert "· 两委商议 2026-03-23（赞成 7、反对 0、弃权 0）" in archive and "✅ 决议公开" in archive


async def test_bad_records_are_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    users = await _village(h)
    staff = users["staff"]
    await h.say(staff, "/matter")
    assert "目前没有进行中的四议两公开事项" in h.last(staff)
    await h.say(staff, "/matter 修建文化广场")
    await h.tap(staff, "记录：党组织提议")
    await h.say(staff, "会议：村党支部\n内容：修建文化广场")
    assert h.last(staff) == "缺少“日期：”一行（年-月-日）。"
    await h.say(staff, "日期：2026-05-01\n会议：村党支部\n内容：修建文化广场")
    assert h.last(staff) == "2026-05-01 还没有到，只能记录已经开过的会议。"
    await h.say(staff, "日期：2026-03-01\n会议：村党支部\n内容：修建文化广场")
    await h.tap(staff, "记录：两委商议")
    await h.say(staff, "日期：2026-02-01\n会议：两委\n到会：七\n赞成：7\n反对：0\n弃权：0\n内容：同意")
    assert h.last(staff) == "“七”不是人数，请写数字，例如 7。"
    await h.say(staff, "日期：2026-02-01\n会议：两委\n到会：7\n赞成：7\n反对：0\n弃权：0\n内容：同意")
    assert h.last(staff) == "2026-02-01 早于上一步的日期 2026-03-01，请检查日期。"
    resident = h.world.new_user("村民")
    await h.say(resident, "/matter 我的事项")
    assert "没有“村务公开人员”身份" in h.last(resident)
    async with h.runtime.sessions() as session:
        assert len(list(await session.exec(select(MatterStep)))) == 1
        assert not list(await session.exec(select(Obligation)))
