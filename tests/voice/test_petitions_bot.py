"""Petitions through the real Dispatcher: starting, confirming or refusing, opening by itself, signing from
the group post's link with a live (throttled) count, the threshold creating one immediate obligation, the
disclosure closing it, expiry; every bad input; and 100 residents signing at once."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from sqlmodel import func, select

from bot.base.clock import FakeClock
from models import Obligation, Petition, PetitionPost, RoleGrant, Signature
from reminders import scheduler, voice
from services.people import directory
from services.people.roles import Role
from services.voice import petitions
from tests.harness import Harness
from tests.voice_fixtures import Cast, person, publish, seed


async def _petition(h: Harness) -> Petition:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Petition))).one()


async def _start(h: Harness, cast: Cast, title: str = "公开村集体土地流转合同") -> None:
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, title)
    await h.say(cast.resident, "请公开2025年以来全部土地流转合同及租金收支。")
    await h.tap(cast.resident, "跳过")


async def _open(h: Harness, cast: Cast, take_back: bool = True) -> int:
    """Opened by staff. The starter (cast.resident) signs it by starting it; unless told otherwise that signature
    is taken back here, so that the tests below count the signatures they make themselves."""
    await _start(h, cast)
    await h.tap(cast.staff, "确认受理")
    petition = await _petition(h)
    assert petition.resident_count == 1  # the starter's signature
    if take_back:
        await _take_back(h, cast.resident, petition.id or 0)
    return petition.id or 0


async def _take_back(h: Harness, user, petition_id: int) -> None:
    await h.open_link(user, f"s_{petition_id}")
    await h.tap(user, "撤回联署")


async def _sign(h: Harness, user, petition_id: int) -> None:
    await h.open_link(user, f"s_{petition_id}")
    await h.tap(user, "确认联署")


def _post_text(h: Harness, cast: Cast) -> str:
    return next(m.text for m in h.world.bot_messages(cast.group) if "联名申请公开" in m.text)


async def test_petition_story(harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await seed(h, population=20, representatives=10)  # 2 residents or 2 representatives
    await _start(h, cast)
    assert "已提交" in h.last(cast.resident)
    assert "公开村集体土地流转合同" in h.last(cast.staff) and "李大爷" in h.last(cast.staff)
    assert "确认受理" in str(h.world.last_message(h.world.private_chat(cast.supervisor)).data)  # type: ignore[union-attr]
    await h.tap(cast.staff, "确认受理")
    assert "已开放联署" in h.last(cast.resident) and "发起即已联署" in h.last(cast.resident)
    post = h.world.bot_messages(cast.group)[-1]
    assert "已有1位村民联署，需要2位；已有0位村民代表联署，需要2位" in post.text
    [[button]] = post.data["reply_markup"]["inline_keyboard"]
    petition_id = (await _petition(h)).id or 0
    assert button["url"].endswith(f"start=s_{petition_id}")
    async with h.runtime.sessions() as session:
        [pp] = list(await session.exec(select(PetitionPost)))
    assert pp.chat_id == cast.group.id
    # The starter sees that they have signed; the confirm screen signs nothing.
    await h.open_link(cast.resident, f"s_{petition_id}")
    assert "您已联署" in h.last(cast.resident)
    await h.open_link(cast.neighbour, f"s_{petition_id}")
    assert "确认联署吗" in h.last(cast.neighbour) and (await _petition(h)).resident_count == 1
    # Withdraw, then sign again: still one signature row; the post is edited at most every 3 seconds.
    await h.open_link(cast.resident, f"s_{petition_id}")
    await h.tap(cast.resident, "撤回联署")
    assert "已撤回" in h.last(cast.resident) and (await _petition(h)).resident_count == 0
    assert "已有0位村民联署，需要2位" in post.text  # the first change is shown at once
    await h.open_link(cast.resident, f"s_{petition_id}")
    await h.tap(cast.resident, "确认联署")
    assert "您已联署" in h.last(cast.resident) and "已有1位村民联署，需要2位" in h.last(cast.resident)
    assert "已有0位村民联署" in post.text
    clock.advance(timedelta(seconds=3))
    await h.flush()
    assert "已有1位村民联署，需要2位" in post.text
    await _take_back(h, cast.resident, petition_id)
    clock.advance(timedelta(seconds=3))
    await h.flush()
    await _sign(h, cast.resident, petition_id)
    await _sign(h, cast.neighbour, petition_id)
    petition = await _petition(h)
    assert petition.state == "granted" and petition.resident_count == 2 and petition.obligation_id
    async with h.runtime.sessions() as session:
        obligation = (await session.exec(select(Obligation))).one()
        signatures = list(await session.exec(select(Signature)))
    assert obligation.source == "petition" and obligation.rule == "immediate" and obligation.source_id == petition.id
    assert obligation.due.isoformat() == "2026-04-03" and len(signatures) == 2
    for user in (cast.staff, cast.secretary, cast.supervisor, cast.inspector):
        assert "联名申请达到人数" in h.last(user), user.first_name
    for user in (cast.resident, cast.neighbour):
        assert "已达到人数" in "\n".join(h.texts(user)[-2:]), user.first_name
    clock.advance(timedelta(seconds=3))
    await h.flush()
    final = h.world.bot_messages(cast.group)[0]
    assert "已达到联署人数" in _post_text(h, cast) and not final.data.get("reply_markup")
    # The disclosure that meets the obligation closes the petition and tells the signers.
    await publish(h, cast, "土地流转合同公开", obligation_id=petition.obligation_id)
    assert (await _petition(h)).state == "closed"
    assert "已经公开" in h.last(cast.resident) and "已经公开" in h.last(cast.neighbour)


async def test_representatives_count_separately(harness: Harness) -> None:
    h = harness
    cast = await seed(h, population=100, representatives=5)  # 10 residents or 1 representative
    petition_id = await _open(h, cast)
    await _sign(h, cast.resident, petition_id)
    assert (await _petition(h)).state == "open"
    await _sign(h, cast.representative, petition_id)  # a representative who is not a resident
    petition = await _petition(h)
    assert (petition.resident_count, petition.representative_count, petition.state) == (1, 1, "granted")


async def test_refusal_reason_reaches_the_petitioner(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await _start(h, cast)
    await h.tap(cast.supervisor, "不予受理")
    await h.say(cast.supervisor, "这不是公开申请，属于个人纠纷。")
    assert "已记录" in h.last(cast.supervisor)
    assert "未被受理" in h.last(cast.resident) and "个人纠纷" in h.last(cast.resident)
    await h.tap(cast.staff, "确认受理")
    assert "已经处理过" in h.last_alert()
    petition = await _petition(h)
    assert petition.state == "refused" and h.world.bot_messages(cast.group) == []
    await h.open_link(cast.neighbour, f"s_{petition.id}")
    assert "未被受理" in h.last(cast.neighbour)


async def test_opens_by_itself_then_expires(harness: Harness, clock: FakeClock) -> None:
    h = harness
    cast = await seed(h)
    await _start(h, cast)
    petition_id = (await _petition(h)).id
    await h.open_link(cast.neighbour, f"s_{petition_id}")
    assert "等待确认" in h.last(cast.neighbour)
    clock.advance(timedelta(days=1))
    await voice.hourly(h.runtime)
    assert (await _petition(h)).state == "pending"
    clock.advance(timedelta(days=1, hours=1))
    await voice.hourly(h.runtime)
    await voice.hourly(h.runtime)
    await h.flush()
    petition = await _petition(h)
    # 20 villagers: 1/10 of them is 2 signatures; the starter's own, made by starting it, is the first.
    assert petition.state == "open" and petition.residents_needed == 2 and petition.resident_count == 1
    assert "发起即已联署" in h.last(cast.resident)
    assert len([m for m in h.world.bot_messages(cast.group) if "联名申请公开" in m.text]) == 1
    await h.open_link(cast.neighbour, f"s_{petition_id}")  # the confirm screen, left open past the end
    clock.advance(timedelta(days=60))
    await h.tap(cast.neighbour, "确认联署")
    assert "已到期" in h.last_alert() and (await _petition(h)).resident_count == 1
    await h.open_link(cast.neighbour, f"s_{petition_id}")
    assert "已到期" in h.last(cast.neighbour)  # past its time even before the hourly job ran
    await voice.hourly(h.runtime)
    await voice.hourly(h.runtime)
    await h.flush()
    assert (await _petition(h)).state == "expired"
    outcome = [m.text for m in h.world.bot_messages(cast.group) if m.text.startswith("⌛")]
    assert len(outcome) == 1 and "已有1位村民联署，需要2位" in outcome[0]
    assert "已到期" in h.last(cast.resident)  # the petitioner hears too
    await h.open_link(cast.resident, f"s_{petition_id}")
    assert "已到期" in h.last(cast.resident)


async def test_bad_petitions(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    await h.say(cast.stranger, "/petition")
    assert "已确认的村民" in h.last(cast.stranger)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "   ")
    assert "不能为空" in h.last(cast.resident)
    await h.say(cast.resident, "标" * 201)
    assert "标题太长" in h.last(cast.resident)
    await h.say(cast.resident, "公开低保名单")
    await h.say(cast.resident, "\u200b\u200b")
    assert "不能为空" in h.last(cast.resident)
    await h.say(cast.resident, "公" * 10_000)
    assert "内容太长（10000 字，最多 2000 字）" in h.last(cast.resident)
    await h.say(cast.resident, "请公开2026年低保对象名单及发放金额。")
    await h.tap(cast.resident, "财务类")  # a catalog item this time: its class first, then the item
    await h.tap(cast.resident, "救灾救助")
    petition = await _petition(h)
    assert (petition.item_id or "").startswith("jyv:") and petition.request.startswith("请公开2026年")


async def test_bad_signatures(harness: Harness) -> None:
    h = harness
    cast = await seed(h, population=30, representatives=0)  # 3 residents; no representative route
    petition_id = await _open(h, cast)
    assert "村民代表" not in _post_text(h, cast)
    await _sign(h, cast.resident, petition_id)
    # Signing twice: the link now offers to withdraw; a replayed Sign tap is refused.
    await h.open_link(cast.resident, f"s_{petition_id}")
    assert "您已联署" in h.last(cast.resident)
    _, data = h.find_button(h.world.private_chat(cast.resident), "撤回联署")
    await h.forge_tap(cast.resident, h.world.private_chat(cast.resident), 11, data.replace("withdraw", "sign"))
    assert "已经联署过" in h.last_alert()
    # From another village, from nowhere, and as a representative-only person in a village without them.
    for n, user in enumerate((cast.outsider, cast.stranger, cast.representative)):
        await h.open_link(user, f"s_{petition_id}")
        assert "已确认的村民" in h.last(user)
        await h.forge_tap(user, h.world.private_chat(user), 20 + n, data.replace("withdraw", "sign"))
        assert "已确认的村民" in h.last_alert()
    await h.forge_tap(cast.neighbour, h.world.private_chat(cast.neighbour), 13, data)  # withdraw unsigned
    assert "没有联署" in h.last_alert()
    await h.forge_tap(cast.neighbour, h.world.private_chat(cast.neighbour), 14, "ps1:999999:sign")
    assert "找不到这个联名申请" in h.last_alert()
    petition = await _petition(h)
    assert (petition.resident_count, petition.representative_count) == (1, 0)
    # After the threshold: no more signing, no withdrawing.
    async with h.runtime.sessions() as session:
        await session.exec(
            petitions.update(Petition).values(residents_needed=2))
        await session.commit()
    await _sign(h, cast.neighbour, petition_id)
    assert (await _petition(h)).state == "granted"
    await h.open_link(cast.representative, f"s_{petition_id}")
    assert "已经达到人数" in h.last(cast.representative)
    await h.forge_tap(cast.resident, h.world.private_chat(cast.resident), 15, data)
    assert "已经达到人数" in h.last_alert()
    assert (await _petition(h)).resident_count == 2


async def test_hundred_signers_at_once(harness: Harness, clock: FakeClock) -> None:
    """100 residents each open the sign link, then all tap "confirm" in the same instant: the 100 callback
    updates go through the real Dispatcher concurrently. The threshold is 50 (1/10 of 500 villagers) and the
    starter's signature, made by starting the petition, is the first: exactly 49 of the 100 count, the petition
    is granted once (one obligation, one message to each person told), the other 51 are told it is already
    reached, and the group post ends showing 50 of 50 without its sign button."""
    h = harness
    cast = await seed(h, population=500, representatives=0, extra_residents=100)
    petition_id = await _open(h, cast, take_back=False)
    assert (await _petition(h)).residents_needed == 50
    for user in cast.extra:
        h.world.user_opens_deep_link(user, f"s_{petition_id}")
    await h.flush()
    taps = {}
    for user in cast.extra:
        message, data = h.find_button(h.world.private_chat(user), "确认联署")
        taps[user.id] = h.world.user_taps(user, h.world.private_chat(user), message.message_id, data)
    updates = h.world.take_updates()
    assert len(updates) == 100
    await asyncio.gather(*(h.feed(raw) for raw in updates))
    await h.worker.run_until_idle()
    petition = await _petition(h)
    async with h.runtime.sessions() as session:
        signatures = (await session.exec(select(func.count()).select_from(Signature))).one()
        obligations = (await session.exec(select(func.count()).select_from(Obligation))).one()
    assert petition.state == "granted" and petition.resident_count == 50 == signatures
    assert obligations == 1 and petition.obligation_id
    for user in (cast.staff, cast.secretary, cast.supervisor, cast.inspector):
        assert sum("联名申请达到人数" in text for text in h.texts(user)) == 1, user.first_name
    signed = [u for u in cast.extra if any("您已联署" in text for text in h.texts(u))]
    refused = [u for u in cast.extra if "已经达到人数" in str(h.world.callback_answers[taps[u.id]].get("text"))]
    assert len(signed) == 49 and len(refused) == 51 and not {u.id for u in signed} & {u.id for u in refused}
    for user in signed:
        assert sum("已达到人数，村里须在" in text for text in h.texts(user)) == 1, user.first_name
    for user in refused:
        assert not any("已达到人数，村里须在" in text for text in h.texts(user)), user.first_name
    clock.advance(timedelta(seconds=3))  # the throttled last edit of the group post
    await h.flush()
    post = h.world.bot_messages(cast.group)[0]
    assert "已有50位村民联署，需要50位" in post.text and "已达到联署人数" in post.text
    assert not post.data.get("reply_markup")


async def test_withdrawal_takes_back_what_was_counted(harness: Harness) -> None:
    """Roles change between signing and withdrawing: a representative who then also becomes a resident, and a
    resident who then moves away. Each withdrawal takes back exactly what its signature added."""
    h = harness
    cast = await seed(h, population=100, representatives=10)  # 10 residents or 2 representatives
    petition_id = await _open(h, cast)
    await _sign(h, cast.representative, petition_id)
    await _sign(h, cast.resident, petition_id)
    assert ((await _petition(h)).resident_count, (await _petition(h)).representative_count) == (1, 1)
    representative, resident = await person(h, cast.representative), await person(h, cast.resident)
    async with h.runtime.sessions() as session:
        await directory.grant_role(session, representative.id or 0, Role.RESIDENT, village_id=cast.village_id)
        grant = (await session.exec(select(RoleGrant).where(
            RoleGrant.person_id == resident.id, RoleGrant.role == Role.RESIDENT))).one()
        grant.status = "revoked"
        session.add(grant)
        await session.commit()
    for user, left in ((cast.representative, (1, 0)), (cast.resident, (0, 0))):
        await h.open_link(user, f"s_{petition_id}")
        await h.tap(user, "撤回联署")
        assert "已撤回" in h.last(user), user.first_name
        petition = await _petition(h)
        assert (petition.resident_count, petition.representative_count, petition.state) == (*left, "open")
    async with h.runtime.sessions() as session:
        rows = list(await session.exec(select(Signature).order_by(Signature.id)))  # type: ignore[arg-type]
    assert [(s.resident, s.representative, s.withdrawn_at is not None) for s in rows] == [
        (True, False, True), (False, True, True)]  # the starter's (signed by starting), then the representative's


async def test_petition_rate_limits(harness: Harness, clock: FakeClock) -> None:
    """Starting petitions (PETITION_DAILY_LIMIT) and signing or withdrawing (SIGNING_HOURLY_LIMIT) are limited
    per person, with a clear answer; the next day (hour) the person may again."""
    h = harness
    h.runtime.settings.petition_daily_limit = 1
    h.runtime.settings.signing_hourly_limit = 3
    cast = await seed(h, population=100)
    petition_id = await _open(h, cast)
    await h.say(cast.resident, "/petition")
    assert "您今天已经发起 1 个联名申请，达到每日上限" in h.last(cast.resident)
    for action in ("确认联署", "撤回联署", "确认联署"):
        await h.open_link(cast.neighbour, f"s_{petition_id}")
        await h.tap(cast.neighbour, action)
    await h.open_link(cast.neighbour, f"s_{petition_id}")
    await h.tap(cast.neighbour, "撤回联署")
    assert "您一小时内联署或撤回已达 3 次，请稍后再试" in h.last_alert()
    assert (await _petition(h)).resident_count == 1  # the refused withdrawal changed nothing
    clock.advance(timedelta(hours=1))
    await h.tap(cast.neighbour, "撤回联署")
    assert "已撤回" in h.last(cast.neighbour) and (await _petition(h)).resident_count == 0
    clock.advance(timedelta(days=1))
    await h.say(cast.resident, "/petition")
    assert "发起联名申请" in h.last(cast.resident)


async def test_granted_petition_is_nagged_due_and_met_from_the_nag(harness: Harness, clock: FakeClock) -> None:
    """The immediate obligation of a granted petition shows in /due and in the daily nag scan (the deadline
    engine's own scan, as the hourly job runs it); "draft it now" on the nag starts a notice that, once
    published, meets the obligation: the signers are told and the petition closes."""
    h = harness
    cast = await seed(h, population=20, representatives=0)
    petition_id = await _open(h, cast)
    for user in (cast.resident, cast.neighbour):
        await _sign(h, user, petition_id)
    assert (await _petition(h)).state == "granted"
    assert "• 公开村集体土地流转合同，2026-04-03 前" in await _due(h, cast)
    clock.advance(timedelta(minutes=5))  # the group post's last count edit goes out; the notice follows it
    await scheduler.scan(h.runtime)  # the hourly job's nag step
    await h.flush()
    assert "公开村集体土地流转合同：今天（2026-04-03）到期" in h.last(cast.staff)
    await h.tap(cast.staff, "起草 1：公开村集体土地")
    await h.say(cast.staff, "村集体土地流转合同公开")
    await h.say(cast.staff, "2025年起流转土地320亩，合同3份，年租金合计19.2万元。")
    await h.tap(cast.staff, "完成")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    assert any("村集体土地流转合同公开" in m.text for m in h.world.bot_messages(cast.group))
    petition = await _petition(h)
    assert petition.state == "closed"
    for user in (cast.resident, cast.neighbour):
        assert "已经公开" in h.last(user), user.first_name
    assert "• 公开村集体土地流转合同，2026-04-03 已公开" in await _due(h, cast)


async def _due(h: Harness, cast: Cast) -> str:
    """What the staff see in answer to /due, every page of it (the "more" button edits the message)."""
    await h.say(cast.staff, "/due")
    pages = [h.last(cast.staff)]
    while (found := re.search(r"第 (\d+)/(\d+) 页", pages[-1])) and found[1] != found[2]:
        await h.tap(cast.staff, f"更多（第 {int(found[1]) + 1}/")
        pages.append(h.last(cast.staff))
    return "\n".join(pages)
