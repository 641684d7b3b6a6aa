"""Completed consultations (/consult, issue 16) on the village's public board and in /archive: once the staff
fed back whether the outcome was adopted, anyone reads the topic, the outcome and the explanation there, screened
on the way out like a notice (a number in it is masked; the village's official number stays). A consultation
not yet fed back is on neither."""

from __future__ import annotations

from sqlmodel import select

from models import Consultation, Village
from services.people import official_numbers
from services.people.official_numbers import Kind
from tests.harness import Harness
from tests.notice_fixtures import seed_village
from tests.procedures.test_consultations_bot import RECORD
from tests.web.helpers import board_client, get


async def test_a_completed_consultation_is_on_the_board_and_in_the_archive_screened(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await h.say(cast.resident, "/consult 村委会门前停车位划分")
    await h.say(cast.staff, "/consult")
    await h.tap(cast.staff, "📝 安排或记录协商")
    await h.say(cast.staff, RECORD)
    await h.say(cast.resident, "/consult 修缮村小学操场")  # proposed, never held
    async with board_client(h) as (client, _):
        first = await get(client, "/v/xinglong")
    before = first.text
    assert "协商结果" not in before and "划定 40 个车位" not in before  # recorded, not yet fed back
    await h.tap(cast.staff, "❌ 未采纳")
    await h.say(cast.staff, "收费须经村民代表会议决定，已提交下次会议")
    async with h.runtime.sessions() as session:
        # a number that reached the record before the screen knew to see it, and the village's official line
        row = (await session.exec(select(Consultation).where(Consultation.topic == "村委会门前停车位划分"))).one()
        row.outcome = "划定 40 个车位，按月收费，联系 13812345678，监督电话 0471-6543210"
        village = (await session.exec(select(Village).where(Village.code == "xinglong"))).one()
        await official_numbers.store(session, Kind.SUPERVISION, "0471-6543210", village=village)
        await session.commit()
    async with board_client(h) as (client, _):
        answer = await get(client, "/v/xinglong")
        english = (await get(client, "/v/xinglong?lang=en")).text
        stale = await get(client, "/v/xinglong", headers={"If-None-Match": first.headers["ETag"]})
    page = answer.text
    assert answer.status == 200 and stale.status == 200  # a cached board does not hide the feedback
    assert "<h2 id=\"consultations\">协商结果</h2>" in page and "<b>村委会门前停车位划分</b>" in page
    assert "协商结果：划定 40 个车位，按月收费，联系 138****5678，监督电话 0471-6543210" in page
    assert "未采纳的理由：收费须经村民代表会议决定，已提交下次会议" in page and "13812345678" not in page
    assert "修缮村小学操场" not in page  # proposed, never held
    assert "Consultations</h2>" in english and "Why it was not adopted" in english
    await h.say(cast.resident, "/archive 2026Q2")
    archive = h.last(cast.resident)
    assert "协商结果（1 项）" in archive and "2026-04-02 村委会门前停车位划分：划定 40 个车位" in archive
    assert "138****5678" in archive and "13812345678" not in archive and "未采纳：收费须经" in archive
    await h.say(cast.resident, "/archive 2026Q1")
    assert "协商结果" not in h.last(cast.resident)
