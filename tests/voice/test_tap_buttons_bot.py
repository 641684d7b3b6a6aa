"""Typing where a step waits for a button (issue 12, "bad input"): in every picker the person is told to tap
one of the buttons above, never silence, "I did not understand" or a question offer; a command leaves the
picker and runs. Shown here in the petition screen and the /event picker (the /draft pickers and /invite have
their own tests)."""

from __future__ import annotations

from sqlmodel import select

from models import Petition, Question
from services.people import directory
from services.people.roles import Role
from tests.harness import Harness
from tests.voice_fixtures import person, seed

TAP = "请点击上面的按钮进行选择，或发送 /cancel 退出。"


async def _rows(h: Harness, table: type) -> list:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(table)))


async def test_typing_in_the_petition_screen_points_to_its_buttons(harness: Harness) -> None:
    h = harness
    cast = await seed(h, population=30)
    await h.say(cast.resident, "/petition")
    await h.say(cast.resident, "公开土地流转合同")
    await h.say(cast.resident, "请公开全部土地流转合同。")
    assert "请先选类别" in h.last(cast.resident)
    await h.say(cast.resident, "财务类")  # typing a class instead of tapping it
    assert h.last(cast.resident) == TAP
    h.world.user_sends_photo(cast.resident, h.world.private_chat(cast.resident), caption="合同照片")
    await h.flush()
    assert h.last(cast.resident) == TAP
    assert await _rows(h, Petition) == [] and await _rows(h, Question) == []
    await h.tap(cast.resident, "跳过")
    [petition] = await _rows(h, Petition)
    assert petition.title == "公开土地流转合同"


async def test_typing_in_the_event_picker_points_to_its_buttons_and_a_command_leaves_it(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    async with h.runtime.sessions() as session:  # the clerk lives in the village too: typed text could be a question
        staff = await person(h, cast.staff)
        await directory.grant_role(session, staff.id or 0, Role.RESIDENT, village_id=cast.village_id)
        await session.commit()
    await h.say(cast.staff, "/event")
    assert h.last(cast.staff) == "请选择要登记的事项："
    await h.say(cast.staff, "村委会换届选举")
    assert h.last(cast.staff) == TAP
    assert await _rows(h, Question) == []
    await h.say(cast.staff, "/questions")  # a command leaves the picker and runs
    assert h.last(cast.staff) != TAP
    await h.say(cast.staff, "路灯坏了")  # outside any picker, typed text is a resident's question again
    assert "一般问题" in h.last(cast.staff)
