"""Bench: the daily nag scan for 1,000 / 5,000 / 10,000 villages (jiangyuan catalog and profile).

Each village has a staff member and a secretary, and published notices for every quarterly item of the
last four quarters except about 3% (gaps that are overdue and nagged). The scan runs on 2026-04-03
10:00 local, a T-7 day for 2026Q1 (every village gets a reminder for every quarterly item): a heavy day.
A second scan the same hour shows the cost when everything was already sent.

    .venv/bin/python bench/obligations.py [--sizes 1000,5000,10000] [--no-postgres]

PostgreSQL: a dedicated database `cunwu_bench` is created (never the test suite's `test`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.runtime import build_runtime
from bot.settings import Settings
from catalogs import Cadence, Period
from catalogs.due import due_date
from models import Notice, Person, RoleGrant, Township, Village
from models.migrate import upgrade
from services.nags import daily_scan

NOW = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)
PG_ADMIN = os.environ.get("CUNWU_BENCH_PG_ADMIN", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PG_URL = PG_ADMIN.rsplit("/", 1)[0] + "/cunwu_bench"


async def seed(url: str, count: int) -> None:
    runtime = build_runtime(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    catalog = runtime.policy.registry.catalog("jyv")
    profile = runtime.policy.registry.profile("jiangyuan")
    quarterly = [i.full_id for i in catalog.items() if i.cadence is Cadence.QUARTERLY]
    past = [Period.parse("2026Q1").shifted(-k) for k in range(1, 5)]
    rng = random.Random(4)
    created = NOW - timedelta(days=800)
    async with runtime.engine.begin() as conn:
        await conn.execute(insert(Township), [{"code": f"t{t}", "name": f"镇{t}", "created_at": created}
                                              for t in range(count // 100 + 1)])
        await conn.execute(insert(Village), [
            {"township_id": v // 100 + 1, "code": f"v{v}", "name": f"村{v}", "kind": "village", "population": 1000,
             "representatives": 30, "language": "zh", "monthly_finance": False, "review_chain": ["secretary"],
             "created_at": created, "committee_name": ""} for v in range(count)])
        await conn.execute(insert(Person), [{"tg_user_id": 10_000_000 + p, "name": f"p{p}", "created_at": created}
                                            for p in range(2 * count)])
        await conn.execute(insert(RoleGrant), [
            {"person_id": 2 * v + 1 + k, "role": role, "village_id": v + 1, "status": "active", "created_at": created}
            for v in range(count) for k, role in enumerate(("staff", "secretary"))])
        rows = []
        for v in range(count):
            for period in past:
                published = datetime.combine(due_date(profile, Cadence.QUARTERLY, period), datetime.min.time(),
                                             tzinfo=UTC) - timedelta(days=2)
                for item in quarterly:
                    if rng.random() < 0.03:
                        continue
                    rows.append({"village_id": v + 1, "author_id": 2 * v + 1, "item_id": item, "period": str(period),
                                 "title": "t", "body": "b", "state": "published", "published_at": published,
                                 "created_at": published, "updated_at": published, "review_chain": [],
                                 "privacy_overrides": [], "stage": 0, "version": 1, "nothing_to_disclose": False})
            if len(rows) > 20_000:
                await conn.execute(insert(Notice), rows)
                rows = []
        if rows:
            await conn.execute(insert(Notice), rows)
    await runtime.close()


async def scan(url: str) -> tuple[float, float, int, int]:
    runtime = build_runtime(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    tracemalloc.start()
    started = time.perf_counter()
    async with runtime.sessions() as session:
        result = await daily_scan(session, runtime.policy, NOW)
        await session.commit()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    await runtime.close()
    return seconds, peak, result.nags, result.messages


async def fresh_postgres() -> str | None:
    try:
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS cunwu_bench"))
            await conn.execute(text("CREATE DATABASE cunwu_bench"))
        await admin.dispose()
    except Exception as error:  # no server: SQLite only
        print(f"PostgreSQL not reachable ({type(error).__name__}); SQLite only")
        return None
    return PG_URL


async def run(sizes: list[int], postgres: bool) -> None:
    print(f"{'db':<11}{'villages':>9}{'seed s':>8}{'scan s':>8}{'peak MB':>9}{'nags':>9}{'msgs':>7}"
          f"{'rescan s':>10}{'peak MB':>9}")
    for engine in ("sqlite", "postgresql") if postgres else ("sqlite",):
        for size in sizes:
            if engine == "sqlite":
                folder = tempfile.mkdtemp(prefix="cunwu-bench-")
                url = f"sqlite+aiosqlite:///{folder}/bench.db"
            else:
                found = await fresh_postgres()
                if found is None:
                    return
                url = found
            await asyncio.to_thread(upgrade, url)
            started = time.perf_counter()
            await seed(url, size)
            seeded = time.perf_counter() - started
            first = await scan(url)
            again = await scan(url)
            print(f"{engine:<11}{size:>9}{seeded:>8.1f}{first[0]:>8.2f}{first[1]:>9.1f}{first[2]:>9}{first[3]:>7}"
                  f"{again[0]:>10.2f}{again[1]:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    asyncio.run(run([int(s) for s in args.sizes.split(",")], not args.no_postgres))


if __name__ == "__main__":
    main()
