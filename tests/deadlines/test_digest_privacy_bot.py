"""The nag digests are written in bulk, not through `outbox.queue`, yet what a person typed in them passes the
privacy gate's rule for bulk rows: a phone number in a matter's title (the title of the disclosure it owes)
or in the village's name reaches the staff masked, in the text and on the buttons; the village's official
number stays as written (it is public).

/matter refuses such a title as it is typed (tests/procedures/test_matter_title_privacy_bot.py); the one here
was stored before that rule, as a title in an older database would be: the digest masks it all the same."""

from __future__ import annotations

from sqlmodel import select

from models import Matter, OutboxMessage, Village
from services.deadlines import nags
from services.people import official_numbers
from services.people.official_numbers import Kind
from tests.harness import Harness
from tests.procedures.test_matters_bot import FORMS, _village


async def test_a_phone_typed_in_a_title_reaches_the_digest_masked(harness: Harness) -> None:
    h = harness
    users = await _village(h)
    staff = users["staff"]
    async with h.runtime.sessions() as session:
        village = (await session.exec(select(Village))).one()
        village.name = "兴隆村（王 13912345678）"
        await official_numbers.store(session, Kind.SUPERVISION, "0471-6543210", village=village)
        await session.commit()
    await h.say(staff, "/matter 村道硬化 监督 0471-6543210")
    async with h.runtime.sessions() as session:  # stored before titles were screened as typed
        matter = (await session.exec(select(Matter))).one()
        matter.title = "村道硬化 联系人 13812345678 监督 0471-6543210"
        session.add(matter)
        await session.commit()
    for step, form in FORMS.items():
        await h.tap(staff, f"记录：{step}")
        await h.say(staff, form)
    async with h.runtime.sessions() as session:
        result = await nags.daily_scan(session, h.runtime.policy, h.runtime.clock.now())
        await session.commit()
        rows = list(await session.exec(select(OutboxMessage).where(OutboxMessage.template == "nag_digest")))
    assert result.messages >= 1 and rows
    await h.worker.run_until_idle()
    digest = h.last(staff)
    assert "决议公开：村道硬化 联系人 138****5678 监督 0471-6543210：已逾期" in digest
    assert "兴隆村（王 139****5678） · 公开提醒" in digest
    assert "13812345678" not in digest and "13912345678" not in digest
    # the buttons name the obligation too: masked there as well
    message, _ = h.find_button(h.world.private_chat(staff), "起草 1：决议公开")
    labels = message.buttons
    assert not any("13812345678" in label for label in labels)
    assert any("138****5678" in str(row.keyboard) for row in rows)
    for row in rows:
        assert "13812345678" not in str(row.context) + str(row.keyboard)
        assert "13912345678" not in str(row.context)
