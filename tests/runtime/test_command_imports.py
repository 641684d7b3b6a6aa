"""The commands as they start. The operator commands that never talk to Telegram start without importing
aiogram (its import costs tens of megabytes and about a second): each runs as an operator types it, in its own
interpreter, and reports at exit whether aiogram was ever loaded. `cunwu run` still gets aiogram's types built
lazily. The long-running commands restart once, lean (the end of this file)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps({"aiogram": sorted(m for m in sys.modules if m.split(".")[0] == "aiogram")}),
                              file=sys.stderr))
from bot.cli.main import main
sys.exit(main())
"""

DIRECTORY = """township: {code: hongqi, name: 红旗镇}
villages:
  - code: xinglong
    name: 兴隆村
"""


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=600, check=False)
    loaded = json.loads(done.stderr.strip().splitlines()[-1])["aiogram"]
    return done.returncode, done.stdout, loaded


def test_operator_commands_never_import_aiogram(sqlite_template: Path, tmp_path: Path) -> None:
    # One engine is enough: what is imported does not depend on it (the commands' output on both engines is
    # tested in tests/deadlines and tests/e2e), and each command costs a fresh interpreter.
    shutil.copy(sqlite_template, tmp_path / "cunwu.db")
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cunwu.db'}", "BOT_TOKEN": "",
           "DEFAULT_LANGUAGE": "zh"}
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    (tmp_path / "text.txt").write_text("联系电话 13912345678", encoding="utf-8")
    commands = [
        (["admin", "import", "directory.yaml"], "1 villages"),  # first: the others read what it wrote
        (["screen", "text.txt"], ""),
        (["calendar", "--profile", "jiangyuan", "--year", "2026"], "2026"),
        (["obligations", "--village", "xinglong", "--date", "2026-04-03"], "兴隆村"),
        (["admin", "export", "--township", "hongqi"], "xinglong"),
        (["admin", "export-archive", "--village", "xinglong", "--quarter", "2026Q1"], ""),
        (["admin", "report", "--township", "hongqi", "--quarter", "2026Q1"], "兴隆村"),
    ]
    for args, shown in commands:
        code, out, loaded = _run(args, env, tmp_path)
        assert loaded == [], (args, loaded)
        assert shown in out, (args, code, out[-500:])


def test_importing_bot_alone_imports_no_aiogram_and_aiogram_later_is_lazy() -> None:
    probe = ("import sys, bot; before = 'aiogram' in sys.modules\n"
             "from aiogram import Bot, Dispatcher; import aiogram.types as t\n"
             "from pydantic import BaseModel\n"
             "built = [m for m in vars(t).values() if isinstance(m, type) and issubclass(m, BaseModel) "
             "and m.__pydantic_complete__]\n"
             "print(before, len(built) < 50)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_the_running_bot_imports_rare_libraries_only_when_used() -> None:
    """segno (QR codes), phonenumbers and python-stdnum (the privacy screen's checks), prometheus_client (only
    `cunwu webhook` serves /metrics) and, on SQLite, SQLAlchemy's PostgreSQL dialect (models.db.upsert) cost a
    few megabytes of a long-running process that may never need them: importing everything `cunwu run` and
    `cunwu webhook` import loads none of them; the first screened number and the first QR code do, and give
    the same answers (tests/runtime/test_webhook.py scrapes /metrics)."""
    probe = ("import importlib, pkgutil, sys\n"
             "import bot.process.app, bot.process.webhook, handlers, web, reminders\n"
             "for package in (handlers, web, reminders):\n"
             "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
             "        importlib.import_module(info.name)\n"
             "rare = ('segno', 'phonenumbers', 'stdnum', 'prometheus_client')\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & set(rare)))\n"
             "print('sqlalchemy.dialects.postgresql' in sys.modules)\n"
             "from services import privacy\n"
             "from web.qr import qr_svg\n"
             "found = privacy.screen('电话 13912345678，身份证 11010519491231002X，卡号 6222020200112233445')\n"
             "print([f.kind for f in found], qr_svg('https://example.org/v/1').startswith('<svg'))\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & set(rare)))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600, check=True)
    assert done.stdout.splitlines() == ["[]", "False", "['mobile', 'id_number', 'bank_card'] True",
                                        "['phonenumbers', 'segno', 'stdnum']"], done.stdout


# `cunwu run` and `cunwu webhook` restart themselves once, as they start, under `python -OO -X
# no_debug_ranges` with MALLOC_ARENA_MAX=2 (bot/cli/main.py `_lean_restart`: about 9 MB less resident), in the
# same process (the pid a supervisor watches, the exit code it reads); CUNWU_LEAN=0 turns it off, and the
# other commands never do it.
# Each case runs the real command as an operator types it; the bot refuses the missing token (exit 2) once
# restarted, so nothing here needs Telegram. tests/e2e runs `cunwu run` this way end to end (signals, exit 0).
# Each interpreter the command runs in reports itself before main() runs: one line per start.
LEAN_PROBE = """
import json, os, sys
print(json.dumps({"pid": os.getpid(), "optimize": sys.flags.optimize, "arenas": os.environ.get("MALLOC_ARENA_MAX"),
                  "docstrings": json.__doc__ is not None, "ranges": "no_debug_ranges" not in sys._xoptions}),
      file=sys.stderr)
from bot.cli.main import main
sys.exit(main())
"""


def _cunwu(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[dict[str, object]], str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("CUNWU_LEAN", "MALLOC_ARENA_MAX", "PYTHONOPTIMIZE")}
    done = subprocess.run([sys.executable, "-c", LEAN_PROBE, *args], capture_output=True, text=True, cwd=tmp_path,
                          env={**inherited, "BOT_TOKEN": "", **env}, timeout=600, check=False)
    lines = done.stderr.strip().splitlines()
    starts = [json.loads(line) for line in lines if line.startswith("{")]
    return done.returncode, starts, "\n".join(line for line in lines if not line.startswith("{"))


@pytest.mark.parametrize("command", ["run", "webhook"])
def test_the_long_running_commands_restart_once_lean(tmp_path: Path, command: str) -> None:
    code, starts, said = _cunwu(tmp_path, command)
    assert [(s["optimize"], s["arenas"], s["docstrings"], s["ranges"]) for s in starts] == [
        (0, None, True, True), (2, "2", False, False)]
    assert starts[0]["pid"] == starts[1]["pid"]  # exec, not a child: the same process
    assert code == 2 and said.startswith("cunwu: BOT_TOKEN is missing"), said


def test_lean_off_and_an_operators_arena_setting_kept(tmp_path: Path) -> None:
    code, starts, said = _cunwu(tmp_path, "run", CUNWU_LEAN="0")
    assert [(s["optimize"], s["arenas"]) for s in starts] == [(0, None)]
    assert code == 2 and said.startswith("cunwu: BOT_TOKEN is missing"), said
    code, starts, _ = _cunwu(tmp_path, "run", MALLOC_ARENA_MAX="4")
    assert [(s["optimize"], s["arenas"]) for s in starts] == [(0, "4"), (2, "4")]
    assert code == 2


def test_other_commands_never_restart(tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("联系电话 13912345678", encoding="utf-8")
    code, starts, _ = _cunwu(tmp_path, "screen", "text.txt")
    assert len(starts) == 1 and code == 1  # 1: a personal number found
