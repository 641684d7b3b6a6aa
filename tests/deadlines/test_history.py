"""The nag log's retention (services/deadlines/history.py) run as the scheduler runs it: rows a scan can
still need are kept (recent days, escalations of open obligations), the rest is tallied and deleted, and
after pruning nobody hears a nag twice nor an escalation again."""

from __future__ import annotations

from datetime import date

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import select

from bot.base.clock import FakeClock
from models import NagLog, NagTally
from reminders import scheduler as sched
from services.deadlines import history
from tests.deadlines.test_deadlines import _item_of, _local, _publish, _run_hourly, _village
from tests.harness import Harness


async def _rows(h: Harness) -> set[tuple[str, str, date]]:
    async with h.runtime.sessions() as session:
        return {(r.obligation_key, r.kind, r.day) for r in await session.exec(select(NagLog))}


async def _counts(h: Harness) -> dict[tuple[str, str, date], int]:
    """The nags each row stands for (a village's periodic ones of a kind and day are one row)."""
    async with h.runtime.sessions() as session:
        return {(r.obligation_key, r.kind, r.day): r.count for r in await session.exec(select(NagLog))}


async def _sent(h: Harness) -> int:
    async with h.runtime.sessions() as session:
        return await history.nags_sent(session)


async def _prune_job(h: Harness) -> history.Pruned:
    """The daily job as the scheduler stores it (textual reference, pickled arguments), run once."""
    scheduler = sched.start(h.runtime, "test", paused=True)
    try:
        job = scheduler.get_job(sched.NAG_HISTORY)
        assert job is not None and isinstance(job.trigger, CronTrigger)
        pruned: history.Pruned = await job.func(*job.args)
    finally:
        scheduler.shutdown(wait=False)
    return pruned


async def test_old_nags_are_tallied_and_pruned_open_escalations_kept(harness: Harness, clock: FakeClock) -> None:
    h = harness
    village, users = await _village(h)
    item = _item_of(h)
    for day in ("2026-04-03", "2026-04-07", "2026-04-09", "2026-04-10", "2026-04-11", "2026-04-14"):
        clock.set(_local(day))
        await _run_hourly(h)
    await _publish(h, village, item, "2026Q1", _local("2026-04-15"))  # one obligation met, late
    for day in ("2026-04-17", "2026-04-20", "2026-04-21"):
        clock.set(_local(day))
        await _run_hourly(h)
    before, sent, counts = await _rows(h), await _sent(h), await _counts(h)
    assert (f"{item}@2026Q1", "escalate_reviewers", date(2026, 4, 14)) in before
    secretary_heard, inspector_heard = len(h.texts(users["secretary"])), len(h.texts(users["inspector"]))

    pruned = await _prune_job(h)  # 2026-04-21 10:00 local: days before 04-18 are past any claim

    after = await _rows(h)
    assert pruned.rows == len(before) - len(after) > 0 and pruned.escalations == 1
    assert await _sent(h) == sent  # the count of nags sent is kept in the tally
    assert {day for _, kind, day in after if kind not in ("escalate_reviewers", "escalate_township")} == {
        date(2026, 4, 20), date(2026, 4, 21)}
    open_escalations = {row for row in before if row[1].startswith("escalate") and not row[0].startswith(item)}
    assert open_escalations and open_escalations <= after  # still open: kept, so never escalated again
    assert not any(key.startswith(item) for key, _, _ in after)  # met: its escalation is gone too
    async with h.runtime.sessions() as session:
        tallied = {(t.day, t.kind): t.count for t in await session.exec(select(NagTally))}
    assert tallied[(date(2026, 4, 3), "T-7")] == sum(n for (_, kind, day), n in counts.items() if (kind, day) == (
        "T-7", date(2026, 4, 3))) > 1

    clock.set(_local("2026-04-22"))  # the next day's scan after pruning: overdue nags, no escalation again
    await _run_hourly(h)
    assert "已逾期" in h.last(users["staff"])
    assert len(h.texts(users["secretary"])) == secretary_heard
    assert len(h.texts(users["inspector"])) == inspector_heard

    again = await _prune_job(h)  # nothing new is prunable the same day: pruning twice changes nothing
    assert again.rows == 0 and await _sent(h) == sent + sum(n for (_, _, day), n in (await _counts(h)).items()
                                                            if day == date(2026, 4, 22))
