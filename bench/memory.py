"""Resident memory and start time of each `cunwu` command, and of a real `cunwu run` under load.

    .venv/bin/python bench/memory.py [--runs 3] [--updates 1000] [--people 200]

Operator commands (`screen`, `calendar`, `obligations`, `admin import/export/export-archive/report`): each
runs as an operator types it, in a fresh interpreter, on a temporary SQLite database holding one township;
printed: the wall time from exec to exit (min/median/max of --runs) and the peak resident memory (VmHWM,
read at exit), and whether aiogram was imported (it must not be: bot/base/lazy_aiogram.py).

`cunwu run`: the real process (SQLite, long polling the project's fake Bot API, the board's web server on),
resident memory (VmRSS) once it polls, and after --updates updates from --people people (/start, /help,
/due and plain text in turn, in rounds: everybody once, the answers, then the next round, as people wait for
an answer before they write again; each person's first is their first /start).

Targets (issue 13): `run` < 100 MB after start and < 110 MB after 1,000 updates from 200 people; the
operator commands start without aiogram.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fake_telegram import FakeBotAPIServer, FakeTelegram
from fake_telegram.balancer import free_port

TOKEN = "4242424242:BENCH-token-that-is-long-enough-to-look-real"
PROBE = """
import atexit, json, sys
def report():
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"peak_mb": peak / 1024, "aiogram": "aiogram" in sys.modules}), file=sys.stderr)
atexit.register(report)
from bot.cli.main import main
sys.exit(main())
"""
DIRECTORY = """township: {code: hongqi, name: 红旗镇}
villages:
  - code: xinglong
    name: 兴隆村
"""
COMMANDS = [
    ["admin", "import", "directory.yaml"],
    ["screen", "text.txt"],
    ["calendar", "--profile", "jiangyuan", "--year", "2026"],
    ["obligations", "--village", "xinglong", "--date", "2026-04-03"],
    ["admin", "export", "--township", "hongqi"],
    ["admin", "export-archive", "--village", "xinglong", "--quarter", "2026Q1"],
    ["admin", "report", "--township", "hongqi", "--quarter", "2026Q1"],
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _env(folder: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "REDIS_", "TELEGRAM_"))}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'cunwu.db'}", "BOT_TOKEN": "", "LOG_LEVEL": "WARNING",
                **extra})
    return env


def command(args: list[str], folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=folder,
                          env=_env(folder), check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"cunwu {' '.join(args)} failed: {done.stdout[-500:]} {done.stderr[-1500:]}")
    figures: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return {**figures, "seconds": seconds}


def spread(values: list[float], digits: int = 2) -> str:
    return "/".join(f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))


async def _until(condition: Any, seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise SystemExit(f"bench: {what} did not happen within {seconds:.0f} s")
        await asyncio.sleep(0.05)


async def run_process(folder: Path, updates: int, people: int) -> tuple[float, float, float]:
    """Resident MB of a real `cunwu run` once it polls, and after the updates; seconds until it starts polling."""
    world = FakeTelegram(TOKEN, bot_id=int(TOKEN.split(":")[0]))
    server = FakeBotAPIServer(world)
    env = _env(folder, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=await server.start(), WEB_PORT=str(free_port()))
    started = time.perf_counter()
    with (folder / "run.log").open("wb") as output:  # the process's log, kept out of the bench's figures
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli.main", "run", cwd=folder,
                                                       env=env, stdout=output, stderr=output)
    try:
        # Started: its getMe as polling begins (a getUpdates is recorded only once its long poll returns).
        await _until(lambda: len(world.requests_for("getMe")) >= 1, 300, "cunwu run starting to poll")
        start_seconds = time.perf_counter() - started
        # Memory once the first long poll has returned (the second getUpdates): the Update types are built.
        await _until(lambda: len(world.requests_for("getUpdates")) >= 2, 300, "cunwu run polling again")
        after_start = rss_mb(process.pid)
        users = [world.new_user(f"住户{i}") for i in range(people)]
        texts = ["/start", "/help", "/due", "你好"]
        for index in range(0, updates, people):  # in rounds: each person waits for the answer before writing again
            for user in users[:min(people, updates - index)]:
                world.user_sends(user, world.private_chat(user), texts[(index // people) % len(texts)])
            sent = min(index + people, updates)
            await _until(lambda sent=sent: sum(len(world.bot_messages(world.private_chat(u))) for u in users) >= sent,
                         600, f"answers to {sent} updates")
        await asyncio.sleep(1.0)  # the last answers' rows written
        return after_start, rss_mb(process.pid), start_seconds
    finally:
        process.terminate()
        await process.wait()
        await server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--run-only", action="store_true", help="only `cunwu run`, not the operator commands")
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--people", type=int, default=200)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; min/median/max of {args.runs} runs")
    print(f"  {'command':<46} {'seconds':>16} {'peak MB':>18} {'aiogram':>8}")
    with tempfile.TemporaryDirectory(prefix="cunwu-bench-") as name:
        folder = Path(name)
        (folder / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
        (folder / "text.txt").write_text("本季度收入12万元，支出8万元。", encoding="utf-8")
        ok = True
        for args_ in [] if args.run_only else COMMANDS:
            results = [command(args_, folder) for _ in range(args.runs)]
            imported = any(r["aiogram"] for r in results)
            ok = ok and not imported
            print(f"  {'cunwu ' + ' '.join(args_[:2]):<46} {spread([r['seconds'] for r in results]):>16} "
                  f"{spread([r['peak_mb'] for r in results], 1):>18} {'yes' if imported else 'no':>8}", flush=True)
        runs = []
        for index in range(args.runs):
            run_folder = folder / f"run{index}"
            run_folder.mkdir()
            runs.append(asyncio.run(run_process(run_folder, args.updates, args.people)))
    print(f"  cunwu run: polling after {spread([r[2] for r in runs])} s; resident MB after start "
          f"{spread([r[0] for r in runs], 1)}, after {args.updates} updates from {args.people} people "
          f"{spread([r[1] for r in runs], 1)} (targets < 100 and < 110)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
