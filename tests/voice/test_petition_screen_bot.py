"""The petition screen (issue 12, point 6): a class first, then its items a page at a time; counts written as
sentences; the person who starts a petition signs it by starting it and sees that."""

from __future__ import annotations

from sqlmodel import select

from models import Petition, Signature
from tests.harness import Harness
from tests.voice_fixtures import seed


async def _petition(h: Harness) -> Petition:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Petition))).one()


async def test_class_first_then_items_paged(harness: Harness) -> None:
    h = harness
    cast = await seed(h, population=30, representatives=0)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开土地流转合同")
    await h.say(cast.resident, "请公开全部土地流转合同。")
    screen = h.world.bot_messages(h.world.private_chat(cast.resident))[-1]
    assert "请先选类别" in screen.text and len(screen.buttons) <= 6 and "跳过" in screen.buttons[-1]
    await h.tap(cast.resident, "财务类")
    items = h.world.bot_messages(h.world.private_chat(cast.resident))[-1]
    assert items.message_id == screen.message_id and "共 18 项" in items.text  # edited in place
    assert len([b for b in items.buttons if b[0].isdigit()]) == 6 and "下一页" in " ".join(items.buttons)
    await h.tap(cast.resident, "下一页")
    assert any(b.startswith("7.") for b in h.world.bot_messages(h.world.private_chat(cast.resident))[-1].buttons)
    await h.tap(cast.resident, "返回类别")
    await h.tap(cast.resident, "事务类")
    await h.tap(cast.resident, "1. ")
    petition = await _petition(h)
    assert petition.item_id is not None and petition.state == "pending"


async def test_the_starter_signs_by_starting_and_counts_are_sentences(harness: Harness) -> None:
    h = harness
    cast = await seed(h, population=30, representatives=10)  # 3 residents or 2 representatives
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开土地流转合同")
    await h.say(cast.resident, "请公开全部土地流转合同。")
    await h.tap(cast.resident, "跳过")
    await h.tap(cast.staff, "确认受理")
    petition = await _petition(h)
    assert petition.resident_count == 1
    async with h.runtime.sessions() as session:
        [signature] = list(await session.exec(select(Signature)))
    assert signature.person_id == petition.person_id
    opened = h.world.bot_messages(h.world.private_chat(cast.resident))[-1]
    assert "发起即已联署" in opened.text and "已有1位村民联署，需要3位" in opened.text
    [[button]] = opened.data["reply_markup"]["inline_keyboard"]  # where it stands, not "sign"
    assert "查看联署状态" in button["text"] and button["url"].endswith(f"start=s_{petition.id}")
    post = next(m for m in h.world.bot_messages(cast.group) if "联名申请公开" in m.text)
    assert "已有1位村民联署，需要3位；已有0位村民代表联署，需要2位（达到任一即可）。" in post.text
    assert "1/3" not in post.text
    await h.open_link(cast.resident, f"s_{petition.id}")  # the starter sees the sign state
    assert "您已联署" in h.last(cast.resident) and "撤回" in str(
        h.world.last_message(h.world.private_chat(cast.resident)).data)  # type: ignore[union-attr]
    await h.open_link(cast.neighbour, f"s_{petition.id}")
    await h.tap(cast.neighbour, "确认联署")
    assert "已有2位村民联署，需要3位" in h.last(cast.neighbour)


async def test_english_counts_are_sentences(harness: Harness) -> None:
    from bot.ui.texts import Texts  # the same loader the bot uses

    texts: Texts = harness.runtime.texts
    line = texts.render("en", "petition_counts", residents=1, residents_needed=3, representatives=0,
                        representatives_needed=2)
    assert line == ("1 resident has signed; 3 are needed; 0 representatives have signed; "
                    "2 are needed (either is enough).")


async def test_in_a_village_of_ten_the_starters_signature_is_enough(harness: Harness) -> None:
    """1/10 of 8 villagers rounds up to one signature: the starter's, made by starting the petition, grants it
    as it opens; the group sees it granted (no sign button) and staff are told once."""
    h = harness
    cast = await seed(h, population=8, representatives=0)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开土地流转合同")
    await h.say(cast.resident, "请公开全部土地流转合同。")
    await h.tap(cast.resident, "跳过")
    await h.tap(cast.staff, "确认受理")
    petition = await _petition(h)
    assert (petition.state, petition.residents_needed, petition.resident_count) == ("granted", 1, 1)
    assert petition.obligation_id is not None
    [post] = [m for m in h.world.bot_messages(cast.group) if "联名申请公开" in m.text]
    assert "已有1位村民联署，需要1位" in post.text and "已达到联署人数" in post.text
    assert not post.data.get("reply_markup")
    assert sum("联名申请达到人数" in text for text in h.texts(cast.staff)) == 1
    assert not any("发起即已联署" in text for text in h.texts(cast.resident))
    assert "已达到人数，村里须在" in h.last(cast.resident)
