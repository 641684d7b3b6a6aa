"""The township's desk in Telegram (issue 15): /report ranks the villages worst first with urge and rectify
buttons; urging reaches the village's staff and secretary at once with "draft it now"; a rectification order
is tracked, reminded, escalated when its deadline passes and closed when the notice it asks for is published;
an inspector of another township can neither see nor act."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.base.clock import FakeClock
from bot.ui.keyboards.desk import DeskRectify, DeskUrge
from models import DeskAction, Notice, Person, Rectification, Township, Village
from reminders import scheduler as sched
from services.people import directory
from services.people.roles import Role
from services.township import ranking
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village

KEPT = "jyv:cw.1@2025Q4"  # 村级财务收支情况, 2025Q4 (due 2026-01-10): the one obligation left overdue


def local(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(UTC)


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    """兴隆村 joined on 1 December 2025 and published everything late except 2025Q4's finance statement;
    东风村 joined today and owes nothing yet."""
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    async with h.runtime.sessions() as session:
        village = await directory.village_by_code(session, "xinglong")
        assert village is not None
        village.created_at = local("2025-12-01")
        session.add(village)
        await session.commit()
        township = await session.get(Township, village.township_id)
        assert township is not None
        found = await ranking.rank(session, h.runtime.policy, [township], h.runtime.clock.now())
        author = (await session.exec(select(Person))).first()
        assert author is not None
        row = next(r for r in found.villages if r.code == "xinglong")
        for owed in row.overdue:
            if owed.key != KEPT:
                session.add(Notice(village_id=village.id or 0, author_id=author.id or 0, item_id=owed.item_id,
                                   period=owed.period, title="补公开", body="b", state="published",
                                   published_at=local("2026-04-01")))
        await session.commit()
    return cast


async def test_report_ranks_urge_and_rectify_until_the_notice_is_published(harness: Harness, cast: Cast,
                                                                           clock: FakeClock) -> None:
    h = harness
    await h.say(cast.inspector, "/report")
    report = h.texts(cast.inspector)[-2]
    assert "红旗镇 · 各村公开排名" in report and "共 2 个村，1 个村需要督办：逾期未公开 1 项" in report
    assert report.index("1. 兴隆村 🔴 逾期 1 项，最长 83 天") < report.index("2. 东风村 ✅ 无逾期")
    assert "村级财务收支情况 2025年第四季度（2026-01-10）" in report
    assert h.world.requests_for("sendPhoto")[-1].ok  # the chart follows

    await h.tap(cast.inspector, "督办 兴隆村")
    assert "已督办 兴隆村" in h.last(cast.inspector)
    for person in (cast.staff, cast.secretary):
        assert "红旗镇 督办" in h.last(person) and "村级财务收支情况 · 2025年第四季度" in h.last(person)
    assert "督办" not in "".join(h.texts(cast.rival))  # another village's staff hears nothing

    await h.tap(cast.inspector, "限期整改 兴隆村")
    await h.tap(cast.inspector, "15 天内")
    assert "期限 2026-04-18" in h.last(cast.inspector)
    assert "限期整改通知" in h.last(cast.staff) and "2026-04-18" in h.last(cast.staff)
    async with h.runtime.sessions() as session:
        order = (await session.exec(select(Rectification))).one()
        assert [w["key"] for w in order.what] == [KEPT] and order.state == "open"
        kinds = [a.kind for a in await session.exec(select(DeskAction).order_by(DeskAction.id))]  # type: ignore[arg-type]
        assert kinds == ["urge", "rectify"]

    clock.set(local("2026-04-15"))  # three days before the deadline: one reminder, however often the job runs
    await _hourly(h)
    await _hourly(h)
    reminders = [t for t in h.texts(cast.staff) if "限期整改提醒" in t]
    assert len(reminders) == 1 and "还有 3 天到期" in reminders[0]

    # the staff drafts it from the order's button and the reviewers publish it: the order closes by itself
    await h.tap(cast.staff, "村级财务收支情况")
    await h.say(cast.staff, "2025年第四季度村级财务收支情况（补）")
    await h.say(cast.staff, "第四季度收入10万元，支出6万元。")
    await h.tap(cast.staff, "完成")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    async with h.runtime.sessions() as session:
        order = (await session.exec(select(Rectification))).one()
        assert order.state == "closed" and order.met_keys == [KEPT]
    assert "兴隆村 限期整改已办结（第 1 号，期限 2026-04-18）" in h.last(cast.inspector)
    assert any("限期整改已办结" in t for t in h.texts(cast.staff)[-3:])
    clock.set(local("2026-04-20"))
    await _hourly(h)
    assert not [t for t in h.texts(cast.inspector) if "限期整改逾期未办结" in t]  # a closed order is never escalated


async def test_a_missed_deadline_goes_to_the_township_once(harness: Harness, cast: Cast, clock: FakeClock) -> None:
    h = harness
    await h.say(cast.inspector, "/report")
    await h.tap(cast.inspector, "限期整改 兴隆村")
    await h.tap(cast.inspector, "7 天内")
    clock.set(local("2026-04-11"))
    await _hourly(h)
    await _hourly(h)
    late = [t for t in h.texts(cast.inspector) if "限期整改逾期未办结" in t]
    assert len(late) == 1 and "兴隆村 期限 2026-04-10 已过" in late[0]
    assert any("限期整改逾期未办结" in t for t in h.texts(cast.filing))
    async with h.runtime.sessions() as session:
        assert (await session.exec(select(Rectification))).one().escalated_at is not None


async def test_an_inspector_of_another_township_can_neither_see_nor_act(harness: Harness, cast: Cast) -> None:
    h = harness
    other = h.world.new_user("东山镇干部")
    await h.say(other, "/start")
    async with h.runtime.sessions() as session:
        village = await directory.create_village(session, "dongshan", "qingshan", "青山村")
        person = await directory.get_or_create_person(session, other.id, other.first_name, None)
        await directory.grant_role(session, person.id or 0, Role.INSPECTOR, township_id=village.township_id)
        xinglong = (await session.exec(select(Village).where(Village.code == "xinglong"))).one()
        await session.commit()
    await h.say(other, "/report")
    assert "青山村" in h.texts(other)[-2] and "兴隆村" not in h.texts(other)[-2]
    chat = h.world.private_chat(other)
    for data in (DeskUrge(village_id=xinglong.id or 0).pack(), DeskRectify(village_id=xinglong.id or 0, days=7).pack()):
        await h.forge_tap(other, chat, 1, data)
        assert "镇（街道）检查员" in h.last_alert()
    await h.forge_tap(cast.inspector, h.world.private_chat(cast.inspector), 1,
                      DeskRectify(village_id=xinglong.id or 0, days=3).pack())  # not one of the choices
    async with h.runtime.sessions() as session:
        assert not list(await session.exec(select(Rectification)))
        assert not list(await session.exec(select(DeskAction)))
    assert "督办" not in "".join(h.texts(cast.staff))
    await h.say(cast.staff, "/report")
    assert "镇（街道）检查员" in h.last(cast.staff)


async def _hourly(h: Harness) -> None:
    await sched.hourly(sched.register(h.runtime, "desk"))
    await h.worker.run_until_idle()
