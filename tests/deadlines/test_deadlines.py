"""Obligations, nags and escalations through the real scheduler and Dispatcher, /due, /report, /event,
"draft it now", "remind me tomorrow", and the CLI commands (issue 4)."""

from __future__ import annotations

import io
import re
import struct
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, delete, select

from bot.base.clock import FakeClock
from catalogs import Cadence
from fake_telegram import FakeUser
from models import NagLog, NagScan, Notice, Obligation, Person, Snooze, Village
from models.obligations import PERIODIC
from reminders import scheduler as sched
from services.deadlines import compliance, nags, obligations
from services.events import NoticePublished
from services.people import directory
from services.people.roles import Role
from tests.harness import Harness

QUARTERLY_ITEM = "jyv:sw.1"


async def _village(h: Harness) -> tuple[Village, dict[str, FakeUser]]:
    users = {name: h.world.new_user(label) for name, label in
             (("staff", "王会计"), ("secretary", "李书记"), ("supervisor", "赵监委"), ("inspector", "镇检查员"))}
    for user in users.values():
        await h.say(user, "/start")  # a private chat exists once the person has started the bot
    async with h.runtime.sessions() as session:
        village = await directory.create_village(session, "hongqi", "xinglong", "兴隆村")
        village.created_at = h.runtime.clock.now() - timedelta(days=30)
        for role, user in users.items():
            person = await directory.get_or_create_person(session, user.id, user.first_name, None)
            if role == "inspector":
                await directory.grant_role(session, person.id or 0, Role.INSPECTOR, township_id=village.township_id)
            else:
                await directory.grant_role(session, person.id or 0, Role(role), village_id=village.id)
        await session.commit()
    return village, users


def _item_of(h: Harness) -> str:
    catalog = h.runtime.policy.registry.catalog("jyv")
    return next(i.full_id for i in catalog.items() if i.cadence.value == "quarterly")


async def _publish(h: Harness, village: Village, item: str, period: str | None, when: datetime,
                   corrects: int | None = None) -> Notice:
    async with h.runtime.sessions() as session:
        author = (await session.exec(select(Person))).first()
        assert author is not None
        notice = Notice(village_id=village.id or 0, author_id=author.id or 0, item_id=item, period=period,
                        title="t", body="b", state="published", published_at=when, corrects_id=corrects)
        session.add(notice)
        await session.commit()
        return notice


def _local(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00").astimezone(UTC)


# --- obligation status --------------------------------------------------------------------------------

def test_status_on_due_date_boundaries() -> None:
    due = date(2026, 4, 10)
    assert obligations.status_of(due, [], date(2026, 4, 10)) == ("due", None)
    assert obligations.status_of(due, [], date(2026, 4, 11)) == ("overdue", None)
    assert obligations.status_of(due, [date(2026, 4, 10)], date(2026, 4, 20)) == ("met_on_time", date(2026, 4, 10))
    assert obligations.status_of(due, [date(2026, 4, 11)], date(2026, 4, 20)) == ("met_late", date(2026, 4, 11))
    # two notices: the first on-time one counts, even if a late one came first in the list
    assert obligations.status_of(due, [date(2026, 4, 12), date(2026, 4, 9)], date(2026, 4, 20))[0] == "met_on_time"


def test_owed_periods_switch_after_the_due_date_and_reach_back_to_joining(runtime) -> None:
    profile = runtime.policy.registry.profile("jiangyuan")
    joined = date(2025, 6, 1)
    on_due = obligations.owed_periods(profile, Cadence.QUARTERLY, date(2026, 4, 10), joined)
    after = obligations.owed_periods(profile, Cadence.QUARTERLY, date(2026, 4, 11), joined)
    assert [str(p) for p in on_due] == ["2026Q1", "2025Q4", "2025Q3", "2025Q2"]  # 2025Q2 was due 2025-07-10
    assert [str(p) for p in after] == ["2026Q2", *[str(p) for p in on_due]]
    # a period due on the day the village joined is owed; the one due the day before is not
    oldest = [str(obligations.owed_periods(profile, Cadence.QUARTERLY, date(2026, 4, 11), joined)[-1])
              for joined in (date(2025, 7, 10), date(2025, 7, 11))]
    assert oldest == ["2025Q2", "2025Q3"]
    # no fixed horizon: a village that joined in 2024 still owes its unmet months of 2024 (29 months to 2026-04)
    monthly = obligations.owed_periods(profile, Cadence.MONTHLY, date(2026, 4, 11), date(2024, 1, 1))
    assert (str(monthly[0]), str(monthly[-1]), len(monthly)) == ("2026-04", "2023-12", 29)


async def test_village_obligations_met_on_time_late_and_corrections(harness: Harness) -> None:
    h = harness
    village, _ = await _village(h)
    item = _item_of(h)
    original = await _publish(h, village, item, "2026Q1", _local("2026-04-10", 23))
    await _publish(h, village, item, "2026Q1", _local("2026-04-12"), corrects=original.id)
    async with h.runtime.sessions() as session:
        _, owed = await obligations.village_on(session, h.runtime.policy, "xinglong", date(2026, 4, 10))
        by_key = {o.key: o for o in owed}
        assert by_key[f"{item}@2026Q1"].status == "met_on_time"
        _, before = await obligations.village_on(session, h.runtime.policy, "xinglong", date(2026, 4, 9))
        assert {o.key: o for o in before}[f"{item}@2026Q1"].status == "due"  # not yet published then
        _, later = await obligations.village_on(session, h.runtime.policy, "xinglong", date(2026, 4, 11))
        other = [o for o in later if o.period == "2026Q1" and o.item_id != item]
        assert other and all(o.status == "overdue" for o in other)
        assert f"{item}@2026Q1" not in {o.key for o in later}  # met past periods drop off the list


async def test_tagging_a_period_that_does_not_exist_is_refused(harness: Harness) -> None:
    h = harness
    village, users = await _village(h)
    async with h.runtime.sessions() as session:
        staff = await directory.person_by_tg(session, users["staff"].id)
        assert staff is not None
        for bad in ("2026Q5", "2026-13", "2026-03", "soon"):
            with pytest.raises(Exception) as error:
                await obligations.draft_for(session, h.runtime.policy, staff, village.id or 0, _item_of(h), bad,
                                            None, h.runtime.clock.now())
            assert getattr(error.value, "key", "") == "draft.bad_period"


async def test_event_obligations_and_publication_hook(harness: Harness) -> None:
    h = harness
    village, users = await _village(h)
    async with h.runtime.sessions() as session:
        staff = await directory.person_by_tg(session, users["staff"].id)
        assert staff is not None
        rows = (await obligations.register_event(session, h.runtime.policy, staff, village.id or 0, "election",
                                                 "sw.3", "2026-06-01", h.runtime.clock.now())).rows
        assert [(r.rule, r.due) for r in rows] == [
            ("election_voter_list", date(2026, 5, 12)), ("election_candidates", date(2026, 5, 25)),
            ("election_results", date(2026, 6, 1)), ("election_certificates", date(2026, 6, 4))]
        meeting = (await obligations.register_event(session, h.runtime.policy, staff, village.id or 0, "meeting",
                                                    "cw.15", "2026-04-13", h.runtime.clock.now())).rows
        assert meeting[0].due == date(2026, 4, 8)  # Monday meeting: 3 working days before is Wednesday
        after_holidays = (await obligations.register_event(session, h.runtime.policy, staff, village.id or 0,
                                                           "meeting", "cw.15", "2026-10-08", h.runtime.clock.now()))
        assert after_holidays.rows[0].due == date(2026, 9, 28)  # National Day week off: Wed 30, Tue 29, Mon 28
        notice = Notice(village_id=village.id or 0, author_id=staff.id or 0, obligation_id=rows[0].id,
                        state="published")
        session.add(notice)
        await session.flush()
        met = await obligations.on_published(session, NoticePublished(notice, h.runtime.clock.now()))
        assert [event.obligation for event in met] == [rows[0]]  # type: ignore[union-attr]
        await session.commit()
        owed = await obligations.for_village(session, h.runtime.policy, village, date(2026, 4, 3))
    statuses = {o.cadence: o.status for o in owed if o.obligation_id}
    assert statuses["election_voter_list"] == "met_on_time" and statuses["election_results"] == "due"


# --- nags through the real scheduler ---------------------------------------------------------------------

async def _run_hourly(h: Harness, name: str = "test") -> None:
    """What the scheduler calls: the job loaded back from the database job store (textual reference,
    pickled arguments), run once."""
    scheduler = sched.start(h.runtime, name, paused=True)
    try:
        job = scheduler.get_job(sched.HOURLY)
        assert job is not None and job.coalesce and job.misfire_grace_time == sched.MISFIRE_GRACE
        await job.func(*job.args)
    finally:
        scheduler.shutdown(wait=False)
    await h.worker.run_until_idle()


async def _nag_count(h: Harness) -> int:
    async with h.runtime.sessions() as session:
        return len(list(await session.exec(select(NagLog))))


async def test_reminder_once_then_escalations(harness: Harness, clock: FakeClock) -> None:
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await _run_hourly(h)  # 2026-04-03 10:00 local: T-7 for 2026Q1 (due 04-10)
    first = h.texts(staff)[1:]
    assert len(first) == 1 and "还有 7 天到期" in first[0] and "2026年第一季度" in first[0]
    assert "2026Q1" not in first[0]
    logged = await _nag_count(h)
    await _run_hourly(h)  # a second scan the same day
    await _run_hourly(h, name="restarted")  # and a "restart": a new scheduler on the same job store
    assert len(h.texts(staff)) == 2 and await _nag_count(h) == logged
    assert len(h.texts(users["secretary"])) == 1 and len(h.texts(users["inspector"])) == 1

    clock.set(_local("2026-04-11"))
    await _run_hourly(h)
    assert "已逾期 1 天" in h.last(staff) and len(h.texts(users["secretary"])) == 1
    clock.set(_local("2026-04-14"))  # 4 days overdue (the scheduler was down on the 3rd day): escalate once
    await _run_hourly(h)
    assert "提请党组织书记" in h.last(users["secretary"]) and "提请党组织书记" in h.last(users["supervisor"])
    assert len(h.texts(users["inspector"])) == 1
    clock.set(_local("2026-04-15"))
    await _run_hourly(h)
    assert len(h.texts(users["secretary"])) == 2  # escalations are sent once
    clock.set(_local("2026-04-17"))
    await _run_hourly(h)
    assert "报乡镇" in h.last(users["inspector"])
    async with h.runtime.sessions() as session:
        rows = list(await session.exec(select(NagLog).where(NagLog.kind == "escalate_township")))
    assert rows and all(r.day == date(2026, 4, 17) for r in rows)


async def test_quiet_hours_and_scan_hour(harness: Harness, clock: FakeClock) -> None:
    h = harness
    _, users = await _village(h)
    clock.set(_local("2026-04-03", 22))
    await _run_hourly(h)
    clock.set(_local("2026-04-03", 7))
    await _run_hourly(h)
    assert len(h.texts(users["staff"])) == 1 and await _nag_count(h) == 0
    assert not nags.awake(8, 9) and nags.awake(9, 9) and nags.awake(20, 9) and not nags.awake(21, 9)
    assert not nags.awake(7, 5) and nags.awake(8, 5)


async def test_draft_it_now_and_remind_me_tomorrow(harness: Harness, clock: FakeClock) -> None:
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await _run_hourly(h)
    await h.tap(staff, "⏰")
    async with h.runtime.sessions() as session:
        snooze = (await session.exec(select(Snooze))).one()
    assert snooze.until == date(2026, 4, 4)
    await h.tap(staff, "起草")
    assert "标题" in h.last(staff)
    async with h.runtime.sessions() as session:
        draft = (await session.exec(select(Notice))).one()
    assert draft.item_id and draft.period == "2026Q1" and draft.state == "draft"
    await h.say(staff, "2026年第一季度村务公开")
    async with h.runtime.sessions() as session:
        assert (await session.get(Notice, draft.id)).title == "2026年第一季度村务公开"  # type: ignore[union-attr]
    before = len(h.texts(staff))
    clock.set(_local("2026-04-04"))
    await _run_hourly(h)
    assert len(h.texts(staff)) == before + 1 and "还有 6 天到期" in h.last(staff)


async def test_forged_nag_button_is_refused(harness: Harness) -> None:
    h = harness
    village, _ = await _village(h)
    stranger = h.world.new_user("外人")
    from bot.ui.keyboards.deadlines import NagDraft

    data = NagDraft(village_id=village.id or 0, item=_item_of(h), period="2026Q1", ob=0).pack()
    await h.forge_tap(stranger, h.world.private_chat(stranger), 1, data)
    assert "没有" in h.last_alert()
    async with h.runtime.sessions() as session:
        assert not list(await session.exec(select(Notice)))


# --- /event, /due, /report ------------------------------------------------------------------------------

async def test_event_conversation(harness: Harness) -> None:
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await h.say(staff, "/event")
    await h.tap(staff, "四议两公开：实施结果公开")  # the kind's label is the procedure's data (yanliang.yaml)
    assert "属于哪一项" in h.last(staff)
    await h.tap(staff, "下一页")  # the village's event-driven items, six at a time
    await h.tap(staff, "11. 本村公益事业")
    await h.say(staff, "2026-02-30")
    assert "不是有效日期" in h.last(staff)
    await h.say(staff, "2026-04-05")
    assert "已登记" in h.last(staff) and "2026-04-05" in h.last(staff) and "本村公益事业" in h.last(staff)
    async with h.runtime.sessions() as session:
        row = (await session.exec(select(Obligation))).one()
    assert (row.rule, row.due, row.item_id) == ("adhoc", date(2026, 4, 15), "jyv:sw.11")
    assert row.created_by is not None
    await h.say(users["inspector"], "/event")
    assert "没有" in h.last(users["inspector"])


async def test_a_resolution_is_met_by_an_ordinary_notice_of_its_item(harness: Harness, clock: FakeClock) -> None:
    """四议两公开 drives /event from the catalog data; the obligation is tied to the item, so a notice drafted
    the ordinary way (/draft, not "draft it now") with that item meets it, and the nags stop."""
    h = harness
    _, users = await _village(h)
    staff, secretary, supervisor = users["staff"], users["secretary"], users["supervisor"]
    await h.say(staff, "/event")
    await h.tap(staff, "四议两公开：决议公开")
    await h.tap(staff, "6. 村民会议向村民代表会议授权")
    await h.say(staff, "2026-04-01")
    async with h.runtime.sessions() as session:
        row = (await session.exec(select(Obligation))).one()
    assert (row.rule, row.due, row.item_id) == ("immediate", date(2026, 4, 1), "jyv:sw.6")
    await _run_hourly(h)  # 2026-04-03: two days overdue
    assert "村民会议向村民代表会议授权" in h.last(staff) and "已逾期 2 天" in h.last(staff)
    await h.say(staff, "/draft")
    await h.tap(staff, "事务类")
    await h.tap(staff, "6. 村民会议向村民代表会议授权")
    await h.say(staff, "村民会议授权事项")
    await h.say(staff, "村民会议授权村民代表会议决定本村道路维修事项。")
    await h.tap(staff, "完成")
    await h.tap(staff, "提交审核")
    await h.tap(secretary, "同意")
    await h.tap(supervisor, "同意")
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
        row = (await session.exec(select(Obligation))).one()
    assert notice.state == "published" and notice.obligation_id is None and notice.item_id == "jyv:sw.6"
    assert row.met_notice_id == notice.id
    await h.say(staff, "/due")
    assert "第 1/3 页" in h.last(staff) and "近期已公开" not in h.last(staff)
    await h.tap(staff, "更多（第 2/3 页）")  # the same message, edited in place
    await h.tap(staff, "更多（第 3/3 页）")  # the published ones come last
    assert "第 3/3 页" in h.last(staff)
    assert "✅ 近期已公开（1 项）\n• 村民会议向村民代表会议授权的事项和范围，2026-04-03 已公开（逾期）" in h.last(staff)
    before = len(h.texts(staff))
    clock.set(_local("2026-04-06"))  # three days late by now, were it still open: no nag, no escalation
    await _run_hourly(h)
    assert len(h.texts(staff)) == before and not any("提请党组织书记" in t for t in h.texts(secretary))


async def test_due_lists_due_overdue_and_met(harness: Harness, clock: FakeClock) -> None:
    h = harness
    village, users = await _village(h)
    item = _item_of(h)
    await _publish(h, village, item, "2026Q1", _local("2026-04-02"))
    await h.say(users["staff"], "/due")
    first = h.last(users["staff"])
    # a phone screen: grouped with counts, one line per obligation, at most about 20 lines, then "more"
    assert "🟡 本月到期（12 项）" in first and "，2026-04-10 前" in first and len(first.splitlines()) <= 20
    assert "其他需要公开的事项" not in first and "第 1/2 页" in first  # catch-alls are not periodic duties
    await h.tap(users["staff"], "更多（第 2/2 页）")
    second = h.last(users["staff"])
    assert "⚪ 以后到期" in second and "✅ 近期已公开（1 项）" in second and "2026-04-02 已公开" in second
    assert len(second.splitlines()) <= 20 and "第 2/2 页" in second and "上一页" in " ".join(
        h.world.bot_messages(h.world.private_chat(users["staff"]))[-1].buttons)
    clerk = first + second
    assert "其他" not in clerk and "村级财务监督情况" not in clerk  # the committee's own item: not the clerk's
    await h.say(users["supervisor"], "/due")  # the committee sees what it owes
    assert "🟡 本月到期（13 项）" in h.last(users["supervisor"])
    assert "村务监督委员会开展村级财务监督情况 · 2026年第一季度" in h.last(users["supervisor"])
    await h.say(users["secretary"], "/due")  # reviewers see the same list
    assert "兴隆村 · 应公开事项（2026-04-03）" in h.last(users["secretary"])
    clock.set(_local("2026-04-12"))
    await h.say(users["staff"], "/due")
    text = h.last(users["staff"])
    assert "🔴 已逾期" in text and "• 村集体债权债务情况 · 2026年第一季度，应于 2026-04-10 前" in text
    assert f"{h.runtime.policy.item(item).zh} · 2026年第一季度" not in text  # type: ignore[union-attr]  # met: off the list
    stranger = h.world.new_user("路人")
    await h.say(stranger, "/due")
    assert h.last(stranger) == "您在这里没有“村务公开人员”身份，不能进行此操作。"


def _png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n" and content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


async def test_report_text_and_chart(harness: Harness) -> None:
    h = harness
    village, users = await _village(h)
    async with h.runtime.sessions() as session:  # joined on 1 December: 2025Q4 (due 2026-01-10) is owed
        row = await session.get(Village, village.id)
        assert row is not None
        row.created_at = _local("2025-12-01")
        await session.commit()
    await _publish(h, village, _item_of(h), "2025Q4", _local("2026-01-05"))
    await h.say(users["inspector"], "/report 2026Q1")
    text = "\n".join(h.texts(users["inspector"])[1:])
    # the ranking (issue 15): 1 of 14 quarterly items due this year on time (the catch-alls are not periodic
    # duties), 13 overdue since 10 January
    assert "hongqi · 各村公开排名（2026-04-03，从差到好）" in text and "逾期未公开 13 项" in text
    assert "1. 兴隆村 🔴 逾期 13 项，最长 83 天\n   按时率 本季度 - · 本年 7%" in text
    assert "   · 村集体债权债务情况 2025年第四季度（2026-01-10）" in text and "……另有 10 项" in text
    assert "2025Q4" not in text and "2026Q1" not in text  # periods in words (issue 12)
    photos = h.world.requests_for("sendPhoto")
    assert photos and photos[-1].ok
    content = [f for f in h.world.files.values() if f.file_path.startswith("photos/")][-1].content
    assert _png_size(content) == compliance.chart_size(1, compliance.QUARTERS_SHOWN)
    await h.say(users["staff"], "/report")
    assert h.last(users["staff"]) == "您在这里没有“镇（街道）检查员”身份，不能进行此操作。"
    assert len(h.world.requests_for("sendPhoto")) == len(photos)


async def test_weekly_report_photo_goes_to_the_filing_group(harness: Harness) -> None:
    h = harness
    village, users = await _village(h)
    group = h.world.new_group("红旗镇备案群", members=[users["inspector"]])
    from models import BoundChat

    async with h.runtime.sessions() as session:
        session.add(BoundChat(chat_id=group.id, title=group.title or "", purpose="filing",
                              township_id=village.township_id))
        await session.commit()
    h.world.add_bot_to_group(group, admin=True)
    await sched.weekly_report(sched.register(h.runtime, "weekly"))
    await h.worker.run_until_idle()
    photos = h.world.requests_for("sendPhoto")
    assert photos and photos[-1].ok
    content = [f for f in h.world.files.values() if f.file_path.startswith("photos/")][-1].content
    assert _png_size(content) == compliance.chart_size(1, compliance.QUARTERS_SHOWN)


# --- one bad village never stops the others ------------------------------------------------------------

async def test_a_village_with_broken_settings_is_logged_and_skipped(harness: Harness,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """An import let in an unknown profile, an unknown catalog and an unknown time zone: the scan, /due and
    /report go on for everyone else, and each broken village is logged with its code."""
    h = harness
    village, users = await _village(h)
    async with h.runtime.sessions() as session:
        staff = await directory.person_by_tg(session, users["staff"].id)
        assert staff is not None
        settings = {"dongfeng": {"profile": "no_such_profile"}, "nanshan": {"catalog": "nocat"},
                    "beiling": {"timezone": "Mars/Olympus"}}
        for code, fields in settings.items():
            other = await directory.create_village(session, "hongqi", code, f"{code}村")
            for name, value in {**fields, "created_at": village.created_at}.items():
                setattr(other, name, value)
            await directory.grant_role(session, staff.id or 0, Role.STAFF, village_id=other.id)
        await session.commit()
    await _run_hourly(h)  # 2026-04-03: T-7 for 2026Q1
    digests = [t for t in h.texts(users["staff"]) if "公开提醒" in t]
    assert sorted(d.split(" · ")[0][2:] for d in digests) == ["beiling村", "兴隆村"]
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("village dongfeng skipped by the nag scan: unknown profile 'no_such_profile'" in e for e in errors)
    assert any("village nanshan skipped by the nag scan: unknown catalog 'nocat'" in e for e in errors)
    assert any("'Mars/Olympus' of village beiling is unknown" in r.getMessage() for r in caplog.records)
    await h.say(users["staff"], "/due")
    listing = "\n".join(h.texts(users["staff"])[-3:])
    assert "dongfeng村 · 应公开事项" in listing and "本村的政策配置有误" in listing
    assert "兴隆村 · 应公开事项" in "\n".join(h.texts(users["staff"])) and "，2026-04-10 前" in listing
    await h.say(users["inspector"], "/report 2026Q2")
    report = "\n".join(h.texts(users["inspector"]))
    assert "nanshan村 ⚠️ 政策配置有误，无法统计" in report
    assert ". 兴隆村" in report and h.world.requests_for("sendPhoto")[-1].ok


# --- "nothing to disclose this period" ------------------------------------------------------------------

async def _approve(h: Harness, users: dict[str, FakeUser]) -> None:
    await h.tap(users["staff"], "提交审核")
    assert "本期没有需要公开的事项" in h.last(users["secretary"])  # reviewed like any notice
    await h.tap(users["secretary"], "同意")
    await h.tap(users["supervisor"], "同意")


async def test_nothing_to_disclose_from_the_drafting_flow_meets_the_obligation(harness: Harness) -> None:
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await h.say(staff, "/draft")
    await h.tap(staff, "财务类")
    await h.tap(staff, "1. 村级财务收支情况")
    await h.tap(staff, "2026年第一季度")
    await h.tap(staff, "本期没有需要公开的事项")
    preview = "\n".join(h.texts(staff)[-2:])
    assert "2026年第一季度村级财务收支情况" in preview and "本期没有需要公开的事项。" in preview
    await _approve(h, users)
    async with h.runtime.sessions() as session:
        notice = (await session.exec(select(Notice))).one()
        _, owed = await obligations.village_on(session, h.runtime.policy, "xinglong", date(2026, 4, 10))
    assert (notice.state, notice.nothing_to_disclose, notice.period) == ("published", True, "2026Q1")
    assert {o.key: o.status for o in owed}["jyv:cw.1@2026Q1"] == "met_on_time"
    await _run_hourly(h)  # the same day's T-7 reminder no longer lists it
    digest = h.last(staff)
    assert "公开提醒" in digest and "村级财务收支情况 · 2026年第一季度" not in digest
    assert "村务监督委员会开展" not in digest
    # the committee's own supervision of the finances (000 财务类 17) is nagged to the committee, not the clerk
    committee = h.last(users["supervisor"])
    assert "公开提醒" in committee and "村务监督委员会开展村级财务监督情况 · 2026年第一季度：还有 7 天到期" in committee
    assert "村集体债权债务情况" not in committee and "起草" not in committee  # only its own item, no draft button


async def test_nothing_to_disclose_from_the_nag(harness: Harness) -> None:
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await _run_hourly(h)
    message = await h.tap(staff, "本期无事项")  # the first entry of the reminder
    async with h.runtime.sessions() as session:
        draft = (await session.exec(select(Notice))).one()
    assert draft.nothing_to_disclose and draft.period == "2026Q1" and draft.item_id == "jyv:cw.12"
    assert "村集体债权债务情况" in message.buttons[0] and draft.title == "2026年第一季度村集体债权债务情况"
    assert "本期没有需要公开的事项。" in h.texts(staff)[-2]  # the preview, with the usual buttons below
    await _approve(h, users)
    async with h.runtime.sessions() as session:
        _, owed = await obligations.village_on(session, h.runtime.policy, "xinglong", date(2026, 4, 10))
    assert {o.key: o.status for o in owed}[f"{draft.item_id}@2026Q1"] == "met_on_time"


async def test_nothing_to_disclose_is_refused_for_an_event_driven_item(harness: Harness) -> None:
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await h.say(staff, "/draft")
    await h.tap(staff, "事务类")
    await h.tap(staff, "6. 村民会议向村民代表会议授权")  # immediate: no period, so no such button
    assert "本期没有需要公开的事项" not in " ".join(h.world.messages_in(h.world.private_chat(staff))[-1].buttons)
    async with h.runtime.sessions() as session:
        draft = (await session.exec(select(Notice))).one()
    from bot.ui.keyboards.deadlines import DraftNothing

    await h.forge_tap(staff, h.world.private_chat(staff), 1, DraftNothing(notice_id=draft.id or 0).pack())
    assert "只有按期公开的事项" in h.last_alert()
    async with h.runtime.sessions() as session:
        assert not (await session.get(Notice, draft.id)).nothing_to_disclose  # type: ignore[union-attr]


# --- the hourly re-runs ---------------------------------------------------------------------------------

async def _scan(h: Harness) -> nags.ScanResult:
    async with h.runtime.sessions() as session:
        result = await nags.daily_scan(session, h.runtime.policy, h.runtime.clock.now())
        await session.commit()
    await h.worker.run_until_idle()
    return result


async def test_re_runs_plan_only_new_villages_and_never_say_a_nag_twice(harness: Harness) -> None:
    h = harness
    village, users = await _village(h)
    first = await _scan(h)
    assert (first.planned, first.nags, first.messages) == (1, first.kinds["T-7"], 2)  # staff; committee (cw.17)
    again = await _scan(h)  # the next hour: periodic nags were planned for this zone today
    assert (again.scanned, again.planned, again.nags) == (1, 0, 0)
    async with h.runtime.sessions() as session:  # a village created later that day is planned by the re-run
        late = await directory.create_village(session, "hongqi", "nanshan", "南山村")
        late.created_at = village.created_at
        await session.commit()
    third = await _scan(h)
    assert (third.scanned, third.planned, third.nags) == (2, 1, first.nags)
    # a village's periodic reminders of one kind and day are one claim: one row, its count the nags
    async with h.runtime.sessions() as session:
        logged = [(r.obligation_key, r.kind, r.count)
                  for r in await session.exec(select(NagLog).where(col(NagLog.village_id) == village.id))]
    assert logged == [(PERIODIC, "T-7", first.nags)]
    # a scan that lost its mark (two schedulers racing, say) claims only what is not logged yet
    async with h.runtime.sessions() as session:
        await session.exec(delete(NagScan))
        await session.exec(delete(NagLog).where(col(NagLog.village_id) == village.id))
        await session.commit()
    before = len(h.texts(users["staff"]))
    fourth = await _scan(h)
    assert (fourth.planned, fourth.nags, fourth.messages) == (2, first.nags, 2)  # the late village's: logged
    assert len(h.texts(users["staff"])) == before + 1


# --- many transactions: finance monthly (T-FIN-Q) -------------------------------------------------------

async def test_a_village_with_many_transactions_owes_finance_monthly(harness: Harness) -> None:
    h = harness
    village, users = await _village(h)  # joined 2026-03-04
    async with h.runtime.sessions() as session:
        row = await session.get(Village, village.id)
        assert row is not None
        row.monthly_finance = True
        await session.commit()
        _, owed = await obligations.village_on(session, h.runtime.policy, "xinglong", date(2026, 4, 3))
    statuses = {o.key: (o.cadence, o.due, o.status) for o in owed}
    assert statuses["jyv:cw.1@2026-03"] == ("monthly", date(2026, 4, 10), "due")
    assert statuses["jyv:cw.1@2026-02"] == ("monthly", date(2026, 3, 10), "overdue")  # due after joining
    assert "jyv:cw.1@2026-01" not in statuses and "jyv:cw.1@2026Q1" not in statuses
    assert statuses["jyv:sw.14@2026Q1"][0] == "quarterly"  # not a finance item: still quarterly
    await _run_hourly(h)
    digest = h.last(users["staff"])
    assert "村级财务收支情况 · 2026年3月：还有 7 天到期（2026-04-10）" in digest
    assert "村级财务收支情况 · 2026年2月：已逾期 24 天" in digest and "2026年第一季度：还有 7 天到期" in digest
    staff = users["staff"]
    await h.say(staff, "/draft")
    await h.tap(staff, "财务类")
    await h.tap(staff, "1. 村级财务收支情况")
    assert "建议：2026年3月" in h.last(staff)  # monthly periods offered
    async with h.runtime.sessions() as session:
        person = await directory.person_by_tg(session, staff.id)
        assert person is not None
        with pytest.raises(Exception) as error:  # a quarter is not a period of a monthly obligation
            await obligations.draft_for(session, h.runtime.policy, person, village.id or 0, "jyv:cw.1", "2026Q1",
                                        None, h.runtime.clock.now())
    assert getattr(error.value, "key", "") == "draft.bad_period"


# --- the chart: villages x quarters, coloured by status --------------------------------------------------

def test_chart_cells_are_coloured_by_status_with_a_legend(runtime) -> None:
    from PIL import Image

    tallies = {"2025Q2": compliance.Tally(on_time=4), "2025Q3": compliance.Tally(overdue=4),
               "2025Q4": compliance.Tally(on_time=2, overdue=2), "2026Q1": compliance.Tally()}
    report = compliance.TownshipReport("hongqi", "红旗镇", "2026Q1", list(tallies))
    report.villages += [compliance.VillageReport("xinglong", "兴隆村", tallies, [], 0),
                        compliance.VillageReport("dongfeng", "东风村", {q: compliance.Tally() for q in tallies}, [], 0,
                                                 "unknown profile")]
    content = compliance.chart_png(report, compliance.legend(runtime.texts.plain, "en"))
    assert _png_size(content) == compliance.chart_size(2, 4)
    image = Image.open(io.BytesIO(content)).convert("RGB")

    def colour_at(column: float, row: int, across: float) -> str:
        x = (compliance.LEFT + (column + across) * compliance.CELL_W) * compliance.DPI
        y = (compliance.TOP + (row + 0.2) * compliance.CELL_H) * compliance.DPI
        pixel = image.getpixel((round(x), round(y)))
        assert isinstance(pixel, tuple)
        return "#{:02x}{:02x}{:02x}".format(*pixel)

    c = compliance.COLOURS
    assert colour_at(0, 0, 0.15) == c["on_time"] and colour_at(1, 0, 0.15) == c["overdue"]
    assert (colour_at(2, 0, 0.15), colour_at(2, 0, 0.85)) == (c["on_time"], c["overdue"])  # half and half
    assert colour_at(3, 0, 0.15) == c["none"]
    assert c["broken"] in {colour_at(0, 1, x / 20) for x in range(1, 20)}  # hatched grey
    legend_band = image.crop((0, image.height - round(compliance.LEGEND * compliance.DPI), image.width, image.height))
    counted: list[tuple[int, tuple[int, int, int]]] = legend_band.getcolors(maxcolors=100_000) or []  # type: ignore[assignment]
    colours = {"#{:02x}{:02x}{:02x}".format(*rgb) for _, rgb in counted}
    assert {c["late"], c["pending"], c["on_time"], c["overdue"]} <= colours  # every status has its key


async def test_dates_no_seed_states_are_said_to_be_local_readings(harness: Harness) -> None:
    """Issue 16: beside every date the seeds do not state, the reader is told in words (never a rule id);
    working days beyond the official holiday data fall back to Monday-Friday and say so."""
    h = harness
    _, users = await _village(h)
    staff = users["staff"]
    await h.say(staff, "/event")
    await h.tap(staff, "村民代表会议（提前3个工作日发议题）")
    await h.tap(staff, "6. 村民会议向村民代表会议授权")
    await h.say(staff, "2026-10-08")  # after the National Day week
    reply = h.last(staff)
    assert "代表会议议题：2026-09-28 前公开（本地解读：上级文件未规定此期限）" in reply  # borrowed from 003
    assert "节假日" not in reply
    await h.say(staff, "/event")
    await h.tap(staff, "村民代表会议（提前3个工作日发议题）")
    await h.tap(staff, "6. 村民会议向村民代表会议授权")
    await h.say(staff, "2027-02-15")  # a Monday of a year the holiday data does not cover yet
    reply = h.last(staff)
    assert "2027-02-10 前公开" in reply and "该年份尚无国家节假日安排，工作日暂按周一至周五计算" in reply
    await h.say(staff, "/due")
    listed = h.last(staff)
    assert "• 村级财务收支情况 · 2026年第一季度，2026-04-10 前\n" in listed  # quarterly: 000 states it, no mark
    await h.tap(staff, "更多（第 2/3 页）")  # due later: the events, marked in the grouped list too
    later = h.last(staff)
    assert "，2027-02-10 前（本地解读：上级文件未规定此期限）（该年份尚无国家节假日安排" in later, later
    assert not re.search(r"\bT-[A-Z]", listed + later)
