"""Bench: the public board of a township of 40 villages with 10,000 published notices, served by one process.

Seeded (bulk inserts, not through the bot): one township, 40 villages, 250 notices each spread over eight
quarters (2024Q3 to 2026Q2) and the jiangyuan catalog's classes, each with two reviewers' approvals and a
body of ~200 characters; 3% of them corrected (the correction is the 250th's successor), 2% retracted, and
half of them with a posting proof. The clock reads 2026-06-20, so the newest notices are within their
posting period.

The board runs in this process (the production web application, web.app.build_web_app, the rate limit off)
and is asked by aiohttp's client over loopback, one request at a time, so each figure is a whole request:
routing, the queries, rendering, compression and the client's own share. Measured: a village's board (the
target: p95 < 50 ms), the same page answered 304 from its validators, a notice's page, the township's page,
and a poster as PDF (the first, which imports WeasyPrint, and a second of another notice).

    .venv/bin/python bench/board.py [--requests 400] [--no-postgres]

PostgreSQL: a dedicated database `cunwu_bench_board` is created (never the test suite's `test`).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from catalogs import load_registry
from models import AuditEntry, Notice, Person, PostingProof, ReviewDecision, RoleGrant, Township, Village
from models.db import create_engine, session_factory
from models.migrate import upgrade
from services.policy import Policy
from web.app import build_web_app
from web.deps import WebDeps
from web.http import RateLimits
from web.texts import WebTexts

NOW = datetime(2026, 6, 20, 2, 0, tzinfo=UTC)
FIRST = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
VILLAGES, PER_VILLAGE = 40, 250
PG_ADMIN = os.environ.get("CUNWU_BENCH_PG_ADMIN", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PG_URL = PG_ADMIN.rsplit("/", 1)[0] + "/cunwu_bench_board"
BODY = ("本季度收入12.5万元（上级转移支付8万元，集体资产租金4.5万元），支出8.2万元（道路维修5万元，办公经费1.2万元，"
        "环境整治2万元）。以上收支经村务监督委员会审核，如有疑问请在公示期内向村务监督委员会反映。") * 2


def policy() -> Policy:
    return Policy(load_registry(), "jiangyuan", "Asia/Shanghai")


async def seed(url: str) -> None:
    items = [item.full_id for item in policy().registry.catalog("jyv").items()]
    rng = random.Random(14)
    engine = create_engine(url)
    span = (NOW - FIRST).total_seconds()
    async with engine.begin() as conn:
        await conn.execute(insert(Township), [{"code": "hongqi", "name": "红旗镇", "created_at": FIRST}])
        await conn.execute(insert(Village), [
            {"township_id": 1, "code": f"v{v:02d}", "name": f"第{v}村", "kind": "village", "population": 1000,
             "representatives": 30, "language": "zh", "monthly_finance": False,
             "review_chain": ["secretary", "supervisor"], "created_at": FIRST, "committee_name": ""}
            for v in range(VILLAGES)])
        await conn.execute(insert(Person), [{"tg_user_id": 10_000_000 + p, "name": f"工作人员{p}", "created_at": FIRST}
                                            for p in range(3 * VILLAGES)])
        await conn.execute(insert(RoleGrant), [
            {"person_id": 3 * v + 1 + k, "role": role, "village_id": v + 1, "status": "active", "created_at": FIRST}
            for v in range(VILLAGES) for k, role in enumerate(("staff", "secretary", "supervisor"))])
        notices, decisions, audits, proofs = [], [], [], []
        for v in range(VILLAGES):
            for n in range(PER_VILLAGE):
                notice_id = v * PER_VILLAGE + n + 1
                published = FIRST + timedelta(seconds=span * (n + rng.random()) / PER_VILLAGE)
                state = "retracted" if rng.random() < 0.02 else "published"
                corrects = notice_id - 1 if n == PER_VILLAGE - 1 else None
                notices.append({
                    "village_id": v + 1, "author_id": 3 * v + 1, "item_id": rng.choice(items), "period": None,
                    "nothing_to_disclose": False, "title": f"第{v}村公开事项{n}：村级财务收支情况", "body": BODY,
                    "table_text": None, "state": state, "stage": 1, "version": 1,
                    "review_chain": ["secretary", "supervisor"], "corrects_id": corrects, "privacy_overrides": [],
                    "retraction": None, "created_at": published, "updated_at": published,
                    "published_at": published, "posting_until": (published + timedelta(days=10)).date()})
                for stage, role in enumerate(("secretary", "supervisor")):
                    decisions.append({"notice_id": notice_id, "version": 1, "stage": stage, "role": role,
                                      "person_id": 3 * v + 2 + stage, "decision": "approve", "decided_at": published})
                if state == "retracted":
                    audits.append({"notice_id": notice_id, "person_id": 3 * v + 2, "action": "retract",
                                   "from_state": "published", "to_state": "retracted", "version": 1, "stage": 1,
                                   "reason": "数字有误", "at": published + timedelta(days=1)})
                if rng.random() < 0.5:
                    proofs.append({"notice_id": notice_id, "person_id": 3 * v + 1, "file_id": f"photo{notice_id}",
                                   "file_unique_id": "", "at": published + timedelta(hours=3)})
            notices[-2]["state"] = "corrected"  # the 249th is superseded by the 250th, its correction
        await conn.execute(insert(Notice), notices)
        await conn.execute(insert(ReviewDecision), decisions)
        await conn.execute(insert(AuditEntry), audits)
        await conn.execute(insert(PostingProof), proofs)
    await engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def timed(client: TestClient, paths: list[str], headers: dict[str, str] | None = None) -> list[float]:
    times = []
    for path in paths:
        started = time.perf_counter()
        async with client.get(path, headers=headers or {}) as answer:
            await answer.read()
            assert answer.status in (200, 304), (path, answer.status)
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(name: str, times: list[float]) -> str:
    rate = 1000 * len(times) / sum(times)
    return (f"  {name:<28}{statistics.median(times):>8.1f}{percentile(times, 0.95):>8.1f}{max(times):>8.1f}"
            f"{rate:>10.0f}")


async def measure(url: str, requests: int) -> None:
    engine = create_engine(url)
    deps = WebDeps(sessions=session_factory(engine), policy=policy(), now=lambda: NOW, texts=WebTexts("zh"),
                   public_base_url="https://board.example.org", rate_limits=RateLimits(0))
    rng = random.Random(7)
    villages = [f"/v/v{rng.randrange(VILLAGES):02d}" for _ in range(requests)]
    notices = [f"/v/v{(i - 1) // PER_VILLAGE:02d}/n/{i}" for i in
               (rng.randrange(1, VILLAGES * PER_VILLAGE + 1) for _ in range(requests))]
    async with TestClient(TestServer(build_web_app(deps))) as client:
        await timed(client, villages[:20] + notices[:20])  # warm: templates compiled, connections open
        async with client.get("/v/v00", headers={"Accept-Encoding": "identity"}) as answer:
            page, etag = await answer.read(), answer.headers["ETag"]
        print(f"  village board page: {len(page) / 1024:.0f} KB ({len(gzip.compress(page)) / 1024:.0f} KB gzipped)"
              f", {page.count(b'<li>')} notices listed")
        print(f"  {'':<28}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'pages/s':>10}")
        board = await timed(client, villages)
        print(line("village board", board) + ("   (target p95 < 50 ms)"))
        print(line("village board, 304", await timed(client, ["/v/v00"] * requests, {"If-None-Match": etag})))
        print(line("notice page", await timed(client, notices)))
        print(line("township page (40 villages)", await timed(client, ["/t/hongqi"] * max(20, requests // 10))))
        for label, path in (("poster PDF, first", "/v/v03/n/760/poster-a4.pdf"),
                            ("poster PDF, another", "/v/v04/n/1010/poster-a4.pdf")):
            spent = await timed(client, [path])
            print(f"  {label:<28}{spent[0]:>8.0f} ms")
    await engine.dispose()


async def fresh_postgres() -> str | None:
    try:
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS cunwu_bench_board WITH (FORCE)"))
            await conn.execute(text("CREATE DATABASE cunwu_bench_board"))
        await admin.dispose()
    except Exception as error:  # no server: SQLite only
        print(f"PostgreSQL not reachable ({type(error).__name__}); SQLite only")
        return None
    return PG_URL


async def run(requests: int, postgres: bool) -> None:
    for name in ("sqlite", "postgresql") if postgres else ("sqlite",):
        url = (f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='cunwu-bench-')}/board.db" if name == "sqlite"
               else await fresh_postgres())
        if url is None:
            return
        await asyncio.to_thread(upgrade, url)
        started = time.perf_counter()
        await seed(url)
        print(f"{name}: {VILLAGES} villages, {VILLAGES * PER_VILLAGE:,} notices (seeded in "
              f"{time.perf_counter() - started:.1f} s), {requests} requests each", flush=True)
        await measure(url, requests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.requests, not args.no_postgres))


if __name__ == "__main__":
    main()
