"""`cunwu run` and `cunwu webhook` restart themselves once, as they start, under `python -OO -X no_debug_ranges`
with MALLOC_ARENA_MAX=2 (bot/cli/main.py `_lean_restart`: about 9 MB less resident), in the same process (the pid a
supervisor watches, the exit code it reads); CUNWU_LEAN=0 turns it off, and the other commands never do it.
Each case runs the real command as an operator types it; the bot refuses the missing token (exit 2) once
restarted, so nothing here needs Telegram. tests/e2e runs `cunwu run` this way end to end (signals, exit 0)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each interpreter the command runs in reports itself before main() runs: one line per start.
PROBE = """
import json, os, sys
print(json.dumps({"pid": os.getpid(), "optimize": sys.flags.optimize, "arenas": os.environ.get("MALLOC_ARENA_MAX"),
                  "docstrings": json.__doc__ is not None, "ranges": "no_debug_ranges" not in sys._xoptions}),
      file=sys.stderr)
from bot.cli.main import main
sys.exit(main())
"""


def _cunwu(tmp_path: Path, *args: str, **env: str) -> tuple[int, list[dict[str, object]], str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("CUNWU_LEAN", "MALLOC_ARENA_MAX", "PYTHONOPTIMIZE")}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=tmp_path,
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
