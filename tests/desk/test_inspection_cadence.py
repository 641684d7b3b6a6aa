"""The township's inspection cadence owed and nagged like any obligation: the profile's period (half a month
in Dawukou, 002; a quarter in Yubei, 001) and its due date; the township's inspectors reminded and nagged by
the hourly job (once per day and kind), the filing group told once when it is a week late; an inspection
recorded on the console within the period meets it, and the nags stop."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot.base.clock import FakeClock
from catalogs.inspection import owed_periods, period_containing
from models import Township, Village
from tests.desk.test_console_http import BASE, sign_in
from tests.desk.test_desk_bot import _hourly, cast, local  # noqa: F401  (the fixture)
from tests.harness import Harness
from tests.notice_fixtures import Cast
from tests.web.helpers import board_client, get, post


@pytest.mark.parametrize(("every", "day", "start", "end"), [
    ("half_month", date(2026, 4, 3), date(2026, 4, 1), date(2026, 4, 15)),
    ("half_month", date(2026, 4, 15), date(2026, 4, 1), date(2026, 4, 15)),
    ("half_month", date(2026, 4, 16), date(2026, 4, 16), date(2026, 4, 30)),
    ("half_month", date(2028, 2, 20), date(2028, 2, 16), date(2028, 2, 29)),
    ("quarter", date(2026, 4, 3), date(2026, 4, 1), date(2026, 6, 30)),
    ("quarter", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31)),
])
def test_the_period_and_its_due_date(every: str, day: date, start: date, end: date) -> None:
    found = period_containing(every, day)  # type: ignore[arg-type]
    assert (found.start, found.end) == (start, end)


def test_periods_owed_begin_after_the_township_joined_and_read_in_words() -> None:
    owed = owed_periods("half_month", date(2026, 3, 1), date(2026, 4, 3))
    assert [(p.start, p.end) for p in owed] == [(date(2026, 3, 16), date(2026, 3, 31)),
                                                (date(2026, 4, 1), date(2026, 4, 15))]
    assert [p.words("zh") for p in owed] == ["2026年3月下半月", "2026年4月上半月"]
    assert owed[0].words("en") == "the second half of March 2026" and owed[0].code == "2026-03b"
    assert owed_periods("half_month", date(2026, 3, 20), date(2026, 4, 3))[0].start == date(2026, 4, 1)
    assert owed_periods("quarter", date(2026, 4, 2), date(2026, 4, 3)) == []  # joined mid-quarter: not yet
    quarter = owed_periods("quarter", date(2026, 1, 1), date(2026, 4, 3))
    assert [p.words("zh") for p in quarter] == ["2026年第一季度", "2026年第二季度"]


def nags(h: Harness, who: object) -> list[str]:
    return [t for t in h.texts(who) if "核查督导" in t]  # type: ignore[arg-type]


async def test_the_half_monthly_inspection_is_nagged_escalated_and_met(harness: Harness, cast: Cast,  # noqa: F811
                                                                       clock: FakeClock) -> None:
    h = harness
    h.runtime.settings.public_base_url = BASE
    async with h.runtime.sessions() as session:
        for village in await session.exec(select(Village)):
            village.profile = "dawukou"  # 002: the township checks every half month
            session.add(village)
        township = (await session.exec(select(Township).where(Township.code == "hongqi"))).one()
        township.created_at = local("2026-03-01")
        session.add(township)
        await session.commit()

    await _hourly(h)  # 3 April: the second half of March was due on 31 March; April's first half is 12 days off
    await _hourly(h)
    assert len(nags(h, cast.inspector)) == 1
    assert "2026年3月下半月的检查（截止 2026-03-31）还没有登记，已逾期 3 天" in nags(h, cast.inspector)[0]
    assert not nags(h, cast.filing) and not nags(h, cast.staff)

    clock.set(local("2026-04-08"))  # a week late: nagged again, and the filing group told once
    await _hourly(h)
    await _hourly(h)
    assert len(nags(h, cast.inspector)) == 3 and "已逾期 8 天" in nags(h, cast.inspector)[1]
    assert "2026年4月上半月的检查应在 2026-04-15 前完成（还有 7 天）" in nags(h, cast.inspector)[2]
    assert len(nags(h, cast.filing)) == 1 and "核查督导逾期未登记" in nags(h, cast.filing)[0]

    async with board_client(h, public_base_url=BASE) as (client, _):
        csrf = await sign_in(h, client, cast.inspector)
        page = (await get(client, "/console/t/hongqi/inspections")).text
        assert "2026年3月下半月（截止 2026-03-31）：<strong>未检查，已逾期 8 天</strong>" in page
        late = await post(client, "/console/t/hongqi/inspections", data={
            "csrf": csrf, "day": "2026-03-28", "kind": "half_monthly", "v_1": "公开栏已更新"})
        assert late.status == 200
        assert "2026年3月下半月（截止 2026-03-31）：已于 2026-03-28 检查" in late.text
        assert "2026年4月上半月（截止 2026-04-15）：尚未检查" in late.text
        clock.set(local("2026-04-09"))
        await _hourly(h)
        assert len(nags(h, cast.inspector)) == 3  # the second half of March is met: no more nags about it

        clock.set(local("2026-04-12"))  # three days before the first half of April is due
        await _hourly(h)
        assert len(nags(h, cast.inspector)) == 4
        assert "2026年4月上半月的检查应在 2026-04-15 前完成（还有 3 天）" in nags(h, cast.inspector)[-1]
        csrf = await sign_in(h, client, cast.inspector)  # days later: the console's session has expired
        done = await post(client, "/console/t/hongqi/inspections", data={
            "csrf": csrf, "day": "2026-04-12", "kind": "on_site"})
        assert done.status == 200
    for day in ("2026-04-14", "2026-04-15", "2026-04-17"):
        clock.set(local(day))
        await _hourly(h)
    assert len(nags(h, cast.inspector)) == 4  # met: no T-1, no due-day nag, no overdue
    assert len(nags(h, cast.filing)) == 1


async def test_a_township_that_joined_this_quarter_owes_nothing_yet(harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    async with h.runtime.sessions() as session:
        township = (await session.exec(select(Township).where(Township.code == "hongqi"))).one()
        township.created_at = local("2026-01-10")  # jiangyuan borrows 001's quarterly cadence: Q1 began before
        session.add(township)
        await session.commit()
    await _hourly(h)
    assert nags(h, cast.inspector) == []
