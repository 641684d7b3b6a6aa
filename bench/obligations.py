"""Bench: the daily nag scan for 1,000 / 5,000 / 10,000 villages (jiangyuan catalog and profile).

Each village joined the bot on 2025-01-01 and has a staff member and a secretary; it published every
quarterly item of every quarter it owes since (2024Q4 to 2025Q4) except about 3% (gaps: overdue and nagged
daily). The bot has been running all along, so those gaps were escalated on the days they became 3 and 7
days late (their nag log rows are seeded): the day measured is a steady-state day, not a first run that
catches up a year of escalations. The scan runs on 2026-04-03 10:00 local, a T-7 day for 2026Q1 (every
village gets a reminder for each of its 16 quarterly items): a heavy day. A second scan the same hour is
the hourly re-run.

Each scan runs in a fresh process (`--scan URL`), so its peak resident memory (VmHWM, the kernel's
high-water mark of the process: interpreter, imports and data; not tracemalloc's Python-only count) is the
scan's alone, and time is not inflated by tracing. The scan process imports what the hourly job needs:
services, models, SQLAlchemy; not aiogram or matplotlib.

    .venv/bin/python bench/obligations.py [--sizes 1000,5000,10000] [--no-postgres] [--runs 3]

The data are seeded once per size and engine; each of the `--runs` scans runs on a fresh copy of them (a
file copy on SQLite, a database made from the seeded one as its template on PostgreSQL).

PostgreSQL: a dedicated database `cunwu_bench` is created (never the test suite's `test`).
Target: 10,000 villages in < 2 s and < 300 MB, growing linearly, on both engines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select

from catalogs import Cadence, Period, Profile, load_registry
from catalogs.due import due_date
from models import NagLog, NagTally, Notice, Person, RoleGrant, Township, Village
from models.db import create_engine, session_factory
from models.migrate import upgrade
from models.obligations import PERIODIC
from models.sqlite_inline import off_the_loop
from services.deadlines import history
from services.deadlines.nags import ESCALATIONS, OVERDUE, daily_scan
from services.policy import Policy

NOW = datetime(2026, 4, 3, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
JOINED = datetime(2024, 12, 31, 16, 0, tzinfo=UTC)  # 2025-01-01 00:00 local
OWED = [Period.parse("2024Q4").shifted(k) for k in range(5)]  # 2024Q4 (due 2025-01-10) .. 2025Q4
PG_ADMIN = os.environ.get("CUNWU_BENCH_PG_ADMIN", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
PG_URL = PG_ADMIN.rsplit("/", 1)[0] + "/cunwu_bench"


def policy() -> Policy:
    return Policy(load_registry(), "jiangyuan", "Asia/Shanghai")


async def seed(url: str, count: int) -> None:
    rules = policy()
    catalog, profile = rules.registry.catalog("jyv"), rules.registry.profile("jiangyuan")
    quarterly = [i.full_id for i in catalog.items() if i.cadence is Cadence.QUARTERLY]
    rng = random.Random(4)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(insert(Township), [{"code": f"t{t}", "name": f"镇{t}", "created_at": JOINED}
                                              for t in range(count // 100 + 1)])
        await conn.execute(insert(Village), [
            {"township_id": v // 100 + 1, "code": f"v{v}", "name": f"村{v}", "kind": "village", "population": 1000,
             "representatives": 30, "language": "zh", "monthly_finance": False, "review_chain": ["secretary"],
             "created_at": JOINED, "committee_name": ""} for v in range(count)])
        await conn.execute(insert(Person), [{"tg_user_id": 10_000_000 + p, "name": f"p{p}", "created_at": JOINED}
                                            for p in range(2 * count)])
        await conn.execute(insert(RoleGrant), [
            {"person_id": 2 * v + 1 + k, "role": role, "village_id": v + 1, "status": "active", "created_at": JOINED}
            for v in range(count) for k, role in enumerate(("staff", "secretary"))])
        rows: list[dict[str, object]] = []
        escalations: list[dict[str, object]] = []
        for v in range(count):
            for period in OWED:
                published = datetime.combine(due_date(profile, Cadence.QUARTERLY, period), datetime.min.time(),
                                             tzinfo=UTC) - timedelta(days=2)
                for item in quarterly:
                    if rng.random() < 0.03:
                        escalations += _escalated(v + 1, item, period, profile)
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
        kept = escalations + _recent_overdue(escalations)
        for start in range(0, len(kept), 20_000):
            await conn.execute(insert(NagLog), kept[start:start + 20_000])
        await conn.execute(insert(NagTally), _tally(count))
    if url.startswith("postgresql"):  # statistics, as autovacuum keeps them on a real server
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    await engine.dispose()


def _recent_overdue(escalations: list[dict[str, object]]) -> list[dict[str, object]]:
    """The daily overdue nags of the open gaps on the days the history job keeps (before today): one claim
    row per village and day, counting its gaps, as the scan writes them (services/deadlines/nags.py)."""
    gaps = Counter(row["village_id"] for row in {(row["village_id"], row["obligation_key"]): row
                                                 for row in escalations}.values())
    today = NOW.date()
    return [{"village_id": v, "obligation_key": PERIODIC, "kind": OVERDUE, "day": today - timedelta(days=back),
             "sent_at": NOW, "count": n} for v, n in sorted(gaps.items()) for back in range(1, history.KEEP_DAYS + 1)]


def _tally(count: int) -> list[dict[str, object]]:
    """What 15 months of pruning left: nags per day and kind (a rough figure; only its size matters here)."""
    first = NOW.date() - timedelta(days=460)
    return [{"day": first + timedelta(days=d), "kind": kind, "count": count * 2}
            for d in range(460 - history.KEEP_DAYS) for kind in ("T-7", "T-3", "T-1", "due", OVERDUE)]


def _escalated(village_id: int, item: str, period: Period, profile: Profile) -> list[dict[str, object]]:
    """The escalations earlier daily scans sent for an unpublished obligation (services.deadlines.nags.ESCALATIONS)."""
    due = due_date(profile, Cadence.QUARTERLY, period)
    return [{"village_id": village_id, "obligation_key": f"{item}@{period}", "kind": kind,
             "day": due + timedelta(days=after), "sent_at": NOW} for kind, after in ESCALATIONS]


def peak_rss_mb() -> float:
    """The process's peak resident set (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def scan_here(url: str) -> dict[str, float | int]:
    """Child process: both scans of the hour, timed; peak memory of this process. On SQLite the statements
    run in aiosqlite's thread, as the scheduled job runs them (reminders/scheduler.py, `off_the_loop`)."""
    with off_the_loop():
        return await _scan_here(url)


async def _scan_here(url: str) -> dict[str, float | int]:
    imported = peak_rss_mb()
    rules, engine = policy(), create_engine(url)
    sessions = session_factory(engine)
    figures: dict[str, float | int] = {"imports_mb": round(imported, 1)}
    started = time.perf_counter()
    async with sessions() as session:
        pruned = await history.prune(session, NOW)
        await session.commit()
    figures["prune_s"], figures["pruned"] = round(time.perf_counter() - started, 3), pruned.rows
    async with sessions() as session:
        figures["log_rows"] = (await session.exec(select(func.count()).select_from(NagLog))).one()
    for run in ("first", "rerun"):
        started, cpu = time.perf_counter(), time.process_time()
        async with sessions() as session:
            result = await daily_scan(session, rules, NOW)
            await session.commit()
        figures[f"{run}_s"] = round(time.perf_counter() - started, 3)
        figures[f"{run}_cpu"] = round(time.process_time() - cpu, 3)  # this process (SQLite runs in it)
        figures[f"{run}_nags"], figures[f"{run}_msgs"] = result.nags, result.messages
        if run == "first":
            figures["peak_mb"] = round(peak_rss_mb(), 1)
    await engine.dispose()
    return figures


def scan_in_child(url: str) -> dict[str, float | int]:
    done = subprocess.run([sys.executable, __file__, "--scan", url], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"scan process failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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


async def fresh_copy(url: str, run: int) -> str:
    """A copy of the seeded database for one scan (a scan writes: each run starts from the same state)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        copy = path.with_name(f"run{run}.db")
        shutil.copyfile(path, copy)
        return f"sqlite+aiosqlite:///{copy}"
    admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text("DROP DATABASE IF EXISTS cunwu_bench_run"))
        await conn.execute(text("CREATE DATABASE cunwu_bench_run TEMPLATE cunwu_bench"))
    await admin.dispose()
    return PG_URL + "_run"


def spread(values: list[float]) -> str:
    """min / median / max"""
    return " / ".join(f"{v:.2f}" for v in (min(values), statistics.median(values), max(values)))


async def run(sizes: list[int], postgres: bool, runs: int) -> None:
    print(f"{'db':<11}{'villages':>9}{'run':>4}{'seed s':>8}{'scan s':>8}{'cpu s':>7}{'s/1k':>7}{'peak MB':>9}"
          f"{'imports MB':>11}{'nags':>9}{'msgs':>7}{'rerun s':>9}{'rerun nags':>11}{'log rows':>9}{'prune s':>8}"
          f"{'load':>6}")
    summary: list[str] = []
    for engine in ("sqlite", "postgresql") if postgres else ("sqlite",):
        for size in sizes:
            if engine == "sqlite":
                url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='cunwu-bench-')}/bench.db"
            else:
                found = await fresh_postgres()
                if found is None:
                    break
                url = found
            await asyncio.to_thread(upgrade, url)
            started = time.perf_counter()
            await seed(url, size)
            seeded = time.perf_counter() - started
            figures = []
            for number in range(1, runs + 1):
                copy = await fresh_copy(url, number)
                f = await asyncio.to_thread(scan_in_child, copy)
                figures.append(f)
                print(f"{engine:<11}{size:>9}{number:>4}{seeded:>8.1f}{f['first_s']:>8.2f}{f['first_cpu']:>7.2f}"
                      f"{1000 * f['first_s'] / size:>7.2f}"
                      f"{f['peak_mb']:>9.1f}{f['imports_mb']:>11.1f}{f['first_nags']:>9}{f['first_msgs']:>7}"
                      f"{f['rerun_s']:>9.2f}{f['rerun_nags']:>11}{f['log_rows']:>9}{f['prune_s']:>8.2f}"
                      f"{os.getloadavg()[0]:>6.1f}", flush=True)
                if url.startswith("sqlite"):
                    Path(copy.split("///", 1)[1]).unlink()
            if url.startswith("sqlite"):
                shutil.rmtree(Path(url.split("///", 1)[1]).parent)  # the seeded file (228 MB for 10,000)
            summary.append(f"{engine:<11}{size:>9}  scan s {spread([f['first_s'] for f in figures])}"
                           f"  cpu s {spread([f['first_cpu'] for f in figures])}"
                           f"  peak MB {spread([f['peak_mb'] for f in figures])}")
    print(f"min / median / max of {runs} runs (cpu: the scan process's; PostgreSQL's own server time is not in it)")
    print("\n".join(summary))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="scans per size, each on a fresh copy of the seeded data")
    parser.add_argument("--scan", metavar="URL", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.scan:
        print(json.dumps(asyncio.run(scan_here(args.scan))))
        return
    asyncio.run(run([int(s) for s in args.sizes.split(",")], not args.no_postgres, args.runs))


if __name__ == "__main__":
    main()
