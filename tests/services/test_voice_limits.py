"""The voice rate limits hold under concurrency: many asks of one person at once take at most `limit`
slots, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlmodel import func, select

from models import Question, VoiceQuota
from services.errors import DomainError
from services.voice import questions
from tests.harness import Harness
from tests.voice_fixtures import person, publish, seed


async def test_concurrent_questions_cannot_pass_the_limit(harness: Harness) -> None:
    h = harness
    cast = await seed(h)
    notice_id = await publish(h, cast)
    resident = await person(h, cast.resident)
    now, policy = h.runtime.clock.now(), h.runtime.policy

    async def ask(n: int) -> bool:
        async with h.runtime.sessions() as session:
            try:
                await questions.ask(session, policy, resident, notice_id, f"问题{n}", None, False, now, 3)
                await session.commit()
                return True
            except DomainError as error:
                await session.rollback()
                assert error.key == "voice.rate_limited", error.key
                return False

    results = await asyncio.gather(*(ask(n) for n in range(8)))
    async with h.runtime.sessions() as session:
        asked = (await session.exec(select(func.count()).select_from(Question))).one()
        [quota] = list(await session.exec(select(VoiceQuota)))
    assert sum(results) == 3 == asked == quota.used

