"""Separation of duties through the real Dispatcher (issue 11): the author decides no stage of their notice,
one person decides one stage of a version, a supervisor allows no finding in their own notice, a village
whose chain cannot be staffed by distinct people is told at submission and warned about at import."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli.main import main
from bot.process.runtime import Runtime
from bot.ui.keyboards.notices import PrivacyAllow, Review
from fake_telegram import FakeChat, FakeTelegram, FakeUser
from models import Notice, ReviewDecision
from services.errors import DomainError
from services.notices import duties
from services.notices.screening import finding_key
from services.people.directory_io import import_file, parse
from services.people.roles import Role
from services.privacy import screen
from tests.harness import Harness
from tests.notice_fixtures import Cast
from tests.notices.test_notices_bot import draft_notice

DIRECTORY = """
township: {{code: hongqi, name: 红旗镇, filing_chat_id: {filing}}}
villages:
  - code: xinglong
    name: 兴隆村
    review_chain: [secretary, supervisor]
    groups: [{group}]
    roles:
      staff: [{boss}]
      secretary: [{boss}{secretaries}]
      supervisor: [{boss}{supervisors}]
"""


async def _village(h: Harness, secretaries: list[FakeUser], supervisors: list[FakeUser]) -> tuple[FakeUser, FakeChat]:
    """A village whose one staff member also holds the secretary's and the supervisor's roles."""
    world: FakeTelegram = h.world
    boss = world.new_user("全能村干部")
    group = world.new_group("兴隆村村民群", supergroup=True)
    filing = world.new_group("红旗镇备案群", supergroup=True)
    text = DIRECTORY.format(filing=filing.id, group=group.id, boss=boss.id,
                            secretaries="".join(f", {u.id}" for u in secretaries),
                            supervisors="".join(f", {u.id}" for u in supervisors))
    async with h.runtime.sessions() as session:
        await import_file(session, parse(text))
        await session.commit()
    for chat in (group, filing):
        world.add_bot_to_group(chat, admin=True, can_pin=True)
    for user in (boss, *secretaries, *supervisors):
        world.user_sends(user, world.private_chat(user), "/start")
    await h.flush()
    return boss, group


async def _notice(h: Harness) -> Notice:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Notice).order_by(col(Notice.id)))).all()[-1]


async def _forge_review(h: Harness, user: FakeUser, notice: Notice, stage: int) -> None:
    chat = h.world.private_chat(user)
    await h.forge_tap(user, chat, h.world.messages_in(chat)[-1].message_id,
                      Review(notice_id=notice.id or 0, version=notice.version, stage=stage,
                             decision="approve").pack())
    await h.flush()


def _cast(boss: FakeUser) -> Cast:
    """draft_notice only needs the staff member."""
    return Cast(staff=boss, secretary=boss, supervisor=boss, supervisor2=boss, inspector=boss, resident=boss,
                rival=boss, rival_secretary=boss, groups=[], filing=None)  # type: ignore[arg-type]


async def test_a_person_holding_every_role_cannot_publish_alone(harness: Harness) -> None:
    h = harness
    boss, group = await _village(h, [], [])
    await draft_notice(h, _cast(boss))
    await h.tap(boss, "提交审核")
    said = h.last(boss) + h.last_alert()
    assert "无法提交" in said and "党组织书记" in said and "村务监督委员会成员" in said
    notice = await _notice(h)
    assert notice.state == "draft" and h.world.bot_messages(group) == []


async def test_the_author_decides_no_stage_with_a_fresh_or_a_stale_button(harness: Harness) -> None:
    h = harness
    secretary, supervisor = h.world.new_user("张书记"), h.world.new_user("刘监委")
    boss, group = await _village(h, [secretary], [supervisor])
    await draft_notice(h, _cast(boss))
    await h.tap(boss, "提交审核")
    notice = await _notice(h)
    assert notice.state == "in_review" and "请审核" in h.last(secretary)
    assert not any("请审核" in text for text in h.texts(boss))  # the author is not asked
    await h.say(boss, "/review")  # nor shown it as waiting for them
    assert "目前没有等待您审核的内容" in h.last(boss)
    await _forge_review(h, boss, notice, 0)  # a fresh button of the current stage
    assert "不能审核自己起草的内容" in h.last_alert()
    await h.tap(secretary, "同意")
    await _forge_review(h, boss, notice, 0)  # the stage just decided: a stale button
    assert "不能审核自己起草的内容" in h.last_alert()
    await _forge_review(h, boss, notice, 1)  # the last stage, fresh
    assert "不能审核自己起草的内容" in h.last_alert()
    notice = await _notice(h)
    assert notice.state == "in_review" and notice.stage == 1 and h.world.bot_messages(group) == []
    async with h.runtime.sessions() as session:
        deciders = [d.person_id for d in await session.exec(select(ReviewDecision))]
    assert len(deciders) == 1
    await h.tap(supervisor, "同意")
    assert (await _notice(h)).state == "published" and h.world.bot_messages(group)


async def test_one_person_decides_one_stage_of_a_version(harness: Harness) -> None:
    h = harness
    both, supervisor = h.world.new_user("兼职书记监委"), h.world.new_user("刘监委")
    boss, group = await _village(h, [both], [both, supervisor])
    await draft_notice(h, _cast(boss))
    await h.tap(boss, "提交审核")
    await h.tap(both, "同意")
    notice = await _notice(h)
    assert notice.stage == 1 and "请审核" in h.last(supervisor)
    # Asked once (that request now shows the decision in place), not for the second stage.
    assert sum("请审核" in t or "审核记录" in t for t in h.texts(both)) == 1
    await _forge_review(h, both, notice, 1)
    assert "另一个环节" in h.last_alert()
    assert (await _notice(h)).state == "in_review" and h.world.bot_messages(group) == []
    await h.tap(supervisor, "同意")
    assert (await _notice(h)).state == "published"


async def test_a_supervisor_cannot_allow_a_finding_in_their_own_notice(harness: Harness) -> None:
    h = harness
    secretary, supervisor = h.world.new_user("张书记"), h.world.new_user("刘监委")
    boss, _ = await _village(h, [secretary], [supervisor])
    await draft_notice(h, _cast(boss), body="联系人手机 13812345678。")
    await h.tap(boss, "提交审核")
    await h.tap(boss, "请监委会确认")
    assert any("13812345678" in t for t in h.texts(supervisor))
    assert not any(data.startswith("pa2") for m in h.world.bot_messages(h.world.private_chat(boss))
                   for data in m.callback_data())  # the author, a supervisor too, is not asked
    notice = await _notice(h)
    [finding] = screen(notice.body)
    chat = h.world.private_chat(boss)
    await h.forge_tap(boss, chat, h.world.messages_in(chat)[-1].message_id,
                      PrivacyAllow(notice_id=notice.id or 0, key=finding_key(finding)).pack())
    await h.flush()
    assert "不能由您放行" in h.last_alert()
    assert (await _notice(h)).privacy_overrides == []


def test_unstaffed_is_a_matching_of_distinct_people() -> None:
    secretary, supervisor = Role.SECRETARY, Role.SUPERVISOR
    assert duties.unstaffed([secretary, supervisor], {secretary: {1}, supervisor: {1}}, 1) == [secretary, supervisor]
    assert duties.unstaffed([secretary, supervisor], {secretary: {2}, supervisor: {2}}, 1) == [supervisor]
    # 2 could take either stage: the matching gives the secretary's to 3's alternative
    assert duties.unstaffed([secretary, supervisor], {secretary: {2, 3}, supervisor: {2}}, 1) == []
    assert duties.unstaffed([secretary, supervisor], {secretary: {2}, supervisor: {2, 3}}, 3) == [supervisor]


async def test_import_warns_about_a_village_its_people_cannot_staff(
        runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(DIRECTORY.format(filing=-100100, group=-100200, boss=5001, secretaries="", supervisors=", 5002"),
                    encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    assert await asyncio.to_thread(main, ["admin", "import", str(path)]) == 0
    captured = capsys.readouterr()
    assert "imported township hongqi" in captured.out
    [line] = captured.err.splitlines()
    assert "village xinglong" in line and "missing: secretary" in line and "supervisor" not in line.split("missing")[1]


async def test_whoever_asked_for_a_retraction_does_not_decide_it(harness: Harness) -> None:
    """Staff ask; a secretary or supervisor decides. The one who asked is neither asked nor obeyed, even
    after gaining the secretary's role."""
    h = harness
    secretary, supervisor, clerk = h.world.new_user("张书记"), h.world.new_user("刘监委"), h.world.new_user("李文书")
    boss, group = await _village(h, [secretary], [supervisor])
    await draft_notice(h, _cast(boss))
    await h.tap(boss, "提交审核")
    await h.tap(secretary, "同意")
    await h.tap(supervisor, "同意")
    notice = await _notice(h)
    async with h.runtime.sessions() as session:
        from services.notices import publication
        from services.people import directory

        asker = await directory.get_or_create_person(session, clerk.id, clerk.full_name, None)
        await directory.grant_role(session, asker.id or 0, Role.STAFF, village_id=notice.village_id)
        now = h.runtime.clock.now()
        assert not await publication.request_retraction(session, asker, notice.id or 0, "数字有误", now)
        await directory.grant_role(session, asker.id or 0, Role.SECRETARY, village_id=notice.village_id)
        with pytest.raises(DomainError) as refused:
            await publication.retract(session, asker, notice.id or 0, None, h.runtime.clock.now())
        assert refused.value.key == "duties.own_request"
        await session.commit()
    await h.flush()
    assert "撤回" in h.last(secretary) and (await _notice(h)).state == "published"
    await h.tap(secretary, "撤回")
    assert (await _notice(h)).state == "retracted" and not h.world.bot_messages(group)
