"""A matter's title is public (the disclosures it owes carry it to the digests, the board and the archive):
/matter refuses a personal number in it as it is typed, says what it found (masked) and creates nothing; the
village's official number passes; staff of several villages are refused before the village picker."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import Matter, Village
from services.people import directory, official_numbers
from services.people.official_numbers import Kind
from services.people.roles import Role
from tests.harness import Harness
from tests.procedures.test_matters_bot import _village


async def _matters(h: Harness) -> list[str]:
    async with h.runtime.sessions() as session:
        return [m.title for m in await session.exec(select(Matter))]


async def test_a_phone_in_a_title_is_refused_and_nothing_is_created(harness: Harness) -> None:
    h = harness
    staff = (await _village(h))["staff"]
    async with h.runtime.sessions() as session:
        village = (await session.exec(select(Village))).one()
        await official_numbers.store(session, Kind.SUPERVISION, "0471-6543210", village=village)
        await session.commit()
    await h.say(staff, "/matter 村道硬化 联系人 138 1234 5678")
    answer = h.last(staff)
    assert answer == ("事项名称会公开，不能写个人信息：138****5678。请去掉这些号码，重新发送 /matter 事项名称")
    assert "12345678" not in answer
    assert await _matters(h) == []
    await h.say(staff, "/matter 村道硬化 监督电话 0471-6543210")  # the village's official number passes
    assert "已新建事项：村道硬化 监督电话 0471-6543210" in "\n".join(h.texts(staff)[-2:])
    assert await _matters(h) == ["村道硬化 监督电话 0471-6543210"]


async def test_staff_of_two_villages_are_refused_before_the_picker(harness: Harness) -> None:
    h = harness
    staff = (await _village(h))["staff"]
    async with h.runtime.sessions() as session:
        other = await directory.create_village(session, "hongqi", "dongfeng", "东风村")
        person = await directory.get_or_create_person(session, staff.id, staff.first_name, None)
        await directory.grant_role(session, person.id or 0, Role.STAFF, village_id=other.id)
        await session.commit()
    await h.say(staff, "/matter 修路 身份证 110101199003074578")
    assert "事项名称会公开，不能写个人信息" in h.last(staff)
    assert "110101199003074578" not in h.last(staff)
    with pytest.raises(AssertionError):  # no village picker: nothing waits for a tap
        h.find_button(h.world.private_chat(staff), "东风村")
    assert await _matters(h) == []


async def test_english_staff_are_answered_in_english(harness: Harness) -> None:
    h = harness
    staff = (await _village(h))["staff"]
    await h.say(staff, "/lang")
    await h.tap(staff, "English")
    await h.say(staff, "/matter Road paving, call 13812345678")
    assert h.last(staff) == ("A matter's title is made public, so it cannot hold personal information: 138****5678. "
                             "Remove these numbers and send /matter TITLE again.")
    assert await _matters(h) == []
