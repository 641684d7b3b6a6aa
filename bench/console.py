"""Bench: the township console's ranking of 1,600 villages (40 townships of 40) on PostgreSQL.

Seeded (bulk inserts, not through the bot): 40 townships of 40 villages of the jiangyuan catalog, each joined
on 1 July 2025; for every periodic obligation that fell due since then a published notice with a chance of
80% (three in four on time, the rest late), so that about one in five is overdue; a few late questions and
waiting petitions per village. The clock reads 2026-06-20.

Measured, each as wall time (min / median / max) and this process's CPU time (time.process_time: the page's
Python, client and server in one process; the database server's CPU is not in it), because the machine is
shared: services.township.ranking.rank for one township (40 villages) and for all 40 (1,600 villages); over
HTTP (the production web application, aiohttp's test client): a township's page (40 villages) and the county's
view (/console/county, signed in as a county-level admin: all 1,600 villages ranked, the 40 townships added up
and ranked, the county's 20 worst villages), and the 1,600-row ranking of an inspector of all 40 townships
(/console); and for each page, the longest stretch during which the event loop ran nothing else (an update
arriving then waits that long before the bot starts on it). Target: the county's view of 1,600 villages under
1 s on PostgreSQL.

    .venv/bin/python bench/console.py [--runs 10] [--sqlite]

PostgreSQL: a dedicated database `cunwu_bench_console` is created (never the test suite's `test`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from catalogs import PERIODIC, load_registry
from catalogs.due import due_date
from models import ConsoleToken, Notice, Person, Petition, Question, RoleGrant, Township, Village
from models.db import create_engine, session_factory
from models.migrate import upgrade
from services.deadlines.obligations import periods_due_between
from services.policy import Policy
from services.township import ranking, signin
from web.app import build_web_app
from web.deps import WebDeps
from web.http import RateLimits
from web.texts import WebTexts

NOW = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)
JOINED = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)  # 2025-07-01 in Asia/Shanghai
TOWNSHIPS, PER_TOWNSHIP = 40, 40
PG_ADMIN = os.environ.get("CUNWU_BENCH_PG_ADMIN", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PG_URL = PG_ADMIN.rsplit("/", 1)[0] + "/cunwu_bench_console"


def policy() -> Policy:
    return Policy(load_registry(), "jiangyuan", "Asia/Shanghai")


def owed_slots(pol: Policy) -> list[tuple[str, str, date]]:
    """Every (item, period, due date) of the catalog that fell due between joining and the clock."""
    profile, catalog = pol.registry.profile("jiangyuan"), pol.registry.catalog("jyv")
    found = []
    for item in catalog.items():
        cadence = item.effective_cadence(False)
        if cadence in PERIODIC:
            for period in periods_due_between(profile, cadence, date(2025, 7, 1), NOW.date()):
                found.append((item.full_id, str(period), due_date(profile, cadence, period)))
    return found


async def seed(url: str) -> int:
    rng = random.Random(15)
    slots = owed_slots(policy())
    engine = create_engine(url)
    count = TOWNSHIPS * PER_TOWNSHIP
    async with engine.begin() as conn:
        await conn.execute(insert(Township), [{"code": f"t{t:02d}", "name": f"第{t}镇", "created_at": JOINED}
                                              for t in range(TOWNSHIPS)])
        await conn.execute(insert(Village), [
            {"township_id": t + 1, "code": f"t{t:02d}v{v:02d}", "name": f"第{t}镇第{v}村", "kind": "village",
             "population": 1000, "representatives": 30, "language": "zh", "monthly_finance": False,
             "review_chain": ["secretary", "supervisor"], "created_at": JOINED, "committee_name": ""}
            for t in range(TOWNSHIPS) for v in range(PER_TOWNSHIP)])
        await conn.execute(insert(Person), [{"tg_user_id": 20_000_000 + p, "name": f"人员{p}", "created_at": JOINED}
                                            for p in range(count + 1)])
        await conn.execute(insert(RoleGrant), [
            {"person_id": count + 1, "role": "inspector", "township_id": t + 1, "status": "active",
             "created_at": JOINED} for t in range(TOWNSHIPS)])
        notices, questions, petitions = [], [], []
        for vid in range(1, count + 1):
            for item_id, period, due in slots:
                if rng.random() < 0.8:
                    late = rng.random() < 0.25
                    day = min(due + timedelta(days=rng.randrange(1, 30)) if late else due - timedelta(days=2),
                              NOW.date() - timedelta(days=1))
                    at = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)
                    notices.append({"village_id": vid, "author_id": vid, "item_id": item_id, "period": period,
                                    "nothing_to_disclose": False, "title": "公开", "body": "b", "table_text": None,
                                    "state": "published", "stage": 1, "version": 1, "review_chain": [],
                                    "corrects_id": None, "privacy_overrides": [], "retraction": None,
                                    "created_at": at, "updated_at": at, "published_at": at,
                                    "posting_until": day + timedelta(days=10)})
            if rng.random() < 0.3:
                petitions.append({"village_id": vid, "person_id": vid, "item_id": slots[0][0], "title": "请公开",
                                  "request": "r", "state": "open", "created_at": JOINED, "opens_at": JOINED})
        for start in range(0, len(notices), 20_000):
            await conn.execute(insert(Notice), notices[start:start + 20_000])
        firsts = await conn.execute(text("SELECT village_id, min(id) FROM notice GROUP BY village_id"))
        for vid, notice_id in firsts:
            for _ in range(rng.randrange(3)):
                questions.append({"village_id": vid, "person_id": vid, "notice_id": notice_id, "text": "?",
                                  "state": "open", "due": NOW.date() - timedelta(days=rng.randrange(1, 20)),
                                  "created_at": JOINED})
        if questions:
            await conn.execute(insert(Question), questions)
        if petitions:
            await conn.execute(insert(Petition), petitions)
    # statistics and the visibility map, as autovacuum keeps them in production: without them the planner
    # guesses one row where there are 82,000 (nested loops) and cannot read the ranking's index alone
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE" if url.startswith("sqlite") else "VACUUM ANALYZE"))
    await engine.dispose()
    return len(notices)


def line(name: str, times: list[tuple[float, float]], target: str = "") -> str:
    wall, cpu = [w for w, _ in times], [c for _, c in times]
    return (f"  {name:<40}{min(wall):>8.0f}{statistics.median(wall):>8.0f}{max(wall):>8.0f}"
            f"{min(cpu):>9.0f}{statistics.median(cpu):>9.0f}" + (f"   {target}" if target else ""))


class Timed:
    """Wall and CPU time of a block, in ms, appended to a list."""

    def __init__(self, into: list[tuple[float, float]]) -> None:
        self.into = into

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *_: object) -> None:
        self.into.append(((time.perf_counter() - self.wall) * 1000, (time.process_time() - self.cpu) * 1000))


class LoopHeld:
    """The longest stretch, in ms, during which the event loop ran nothing else while a block ran: how long an
    update arriving then would wait before the bot could start on it (a ticker that wakes every millisecond
    measures the gaps between its wake-ups)."""

    def __init__(self, into: list[float]) -> None:
        self.into, self.longest = into, 0.0

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.001)
            now = loop.time()
            self.longest, last = max(self.longest, (now - last - 0.001) * 1000), now

    async def __aenter__(self) -> None:
        self.ticker = asyncio.create_task(self._tick())
        await asyncio.sleep(0)  # the ticker starts before the block

    async def __aexit__(self, *_: object) -> None:
        self.ticker.cancel()
        self.into.append(self.longest)


@dataclass
class Served:
    """One page's measurements over the runs: wall and CPU ms, and the longest the loop was held (LoopHeld)."""

    times: list[tuple[float, float]] = field(default_factory=list)
    held: list[float] = field(default_factory=list)


async def page(client: TestClient, path: str, served: Served) -> bytes:
    async with LoopHeld(served.held):
        with Timed(served.times):
            async with client.get(path, headers={"Accept-Encoding": "identity"}) as answer:
                body = await answer.read()
                assert answer.status == 200, (path, answer.status)
    return body


async def measure(url: str, runs: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    pol = policy()
    county_id = 20_000_000 + 1599  # a county-level admin (ADMIN_IDS), with no inspector grant
    tokens = {}
    async with sessions() as session:
        townships = list(await session.exec(select(Township).order_by(Township.id)))  # type: ignore[arg-type]
        for who in (20_000_000 + 1600, county_id):  # the inspector of all 40 townships; the county's admin
            person = (await session.exec(select(Person).where(Person.tg_user_id == who))).one()
            link = await signin.new_link(session, person, NOW, {county_id})
            tokens[who] = await signin.redeem(session, link, NOW, {county_id})
        await session.commit()
    one: list[tuple[float, float]] = []
    every: list[tuple[float, float]] = []
    for _ in range(runs):
        async with sessions() as session:
            with Timed(one):
                found = await ranking.rank(session, pol, townships[:1], NOW)
            with Timed(every):
                found = await ranking.rank(session, pol, townships, NOW)
    print(f"  ranked {len(found.villages):,} villages: {found.overdue:,} obligations overdue, "
          f"{len(found.needing_action):,} villages needing action; year on time {found.total('year').percent}")
    deps = WebDeps(sessions=sessions, policy=pol, now=lambda: NOW, texts=WebTexts("zh"),
                   public_base_url="http://127.0.0.1", rate_limits=RateLimits(0), county=frozenset({county_id}))
    township, county, merged = Served(), Served(), Served()
    async with TestClient(TestServer(build_web_app(deps))) as client:
        client.session.cookie_jar.update_cookies({"cunwu_console": tokens[county_id]})
        for _ in range(runs + 1):  # the first of each warms the templates: left out
            await page(client, f"/console/t/{townships[0].code}", township)
            body = await page(client, "/console/county", county)
        sizes = f"county's view {len(body) / 1024:.0f} KB ({body.count(b'<tr class=')} rows)"
        client.session.cookie_jar.update_cookies({"cunwu_console": tokens[20_000_000 + 1600]})
        for _ in range(runs + 1):
            body = await page(client, "/console", merged)
        sizes += f"; the 1,600-row ranking {len(body) / 1024:.0f} KB ({body.count(b'<tr class=')} rows)"
    print(f"  {sizes}")
    print(f"  {'':<40}{'wall ms':>24}{'CPU ms':>18}")
    print(f"  {'':<40}{'min':>8}{'p50':>8}{'max':>8}{'min':>9}{'p50':>9}")
    print(line("rank one township (40 villages)", one))
    print(line("rank 40 townships (1,600 villages)", every))
    print(line("township page, 40 villages (HTTP)", township.times[1:]))
    print(line("county's view, 1,600 villages (HTTP)", county.times[1:], "(target < 1,000 ms)"))
    print(line("1,600-row ranking of 40 townships (HTTP)", merged.times[1:]))
    print("  the longest the event loop was held (no update could start) while a page was served, p50 / max ms:")
    for label, served in (("township page", township), ("county's view", county), ("1,600-row ranking", merged)):
        print(f"    {label:<38}{statistics.median(served.held[1:]):>8.0f}{max(served.held[1:]):>8.0f}")
    async with sessions() as session:
        await session.exec(ConsoleToken.__table__.delete())  # type: ignore[attr-defined]
        await session.commit()
    await engine.dispose()


async def fresh_postgres() -> str | None:
    try:
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS cunwu_bench_console WITH (FORCE)"))
            await conn.execute(text("CREATE DATABASE cunwu_bench_console"))
        await admin.dispose()
    except Exception as error:  # no server
        print(f"PostgreSQL not reachable ({type(error).__name__})")
        return None
    return PG_URL


async def run(runs: int, sqlite: bool) -> None:
    url = (f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='cunwu-bench-')}/console.db" if sqlite
           else await fresh_postgres())
    if url is None:
        return
    await asyncio.to_thread(upgrade, url)
    started = time.perf_counter()
    notices = await seed(url)
    print(f"{'sqlite' if sqlite else 'postgresql'}: {TOWNSHIPS} townships x {PER_TOWNSHIP} villages, "
          f"{notices:,} notices (seeded in {time.perf_counter() - started:.1f} s), {runs} runs; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    await measure(url, runs)
    print(f"  load average at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    asyncio.run(run(args.runs, args.sqlite))


if __name__ == "__main__":
    main()
