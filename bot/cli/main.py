"""The `cunwu` command. Every failure an operator can cause ends in one clear line and a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.base.logs import setup_logging
from bot.base.settings import ConfigError, Settings, load_settings
from catalogs import CatalogError

EXIT_CONFIG = 2

# The long-running commands restart themselves once, as they start, in a leaner interpreter (`_lean_restart`).
LEAN_COMMANDS = frozenset({"run", "webhook"})
LEAN = "CUNWU_LEAN"  # "0": never; set to LEAN_DONE in the restarted process, so it happens once
LEAN_DONE = "restarted"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cunwu", description="Village affairs disclosure bot (村务公开)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot with long polling (migrates first)")
    commands.add_parser("webhook", help="serve Telegram's webhook (several instances behind a load balancer)")
    commands.add_parser("migrate", help="upgrade the database to the newest schema")
    demo = commands.add_parser("demo", help="play a scripted story offline and print what each person sees")
    demo.add_argument("--lang", choices=["zh", "en"], default="zh")
    demo.add_argument("--board-dir", type=Path, default=Path("demo-board"),
                      help="where the demo village's board (pages and posters) is written")
    demo.add_argument("--serve", action="store_true", help="then keep the board served until Ctrl-C")
    screen = commands.add_parser("screen", help="screen a text for personal information")
    screen.add_argument("file")
    screen.add_argument("--format", choices=["text", "json"], default="text")
    screen.add_argument("--official", action="append", default=[])
    calendar = commands.add_parser("calendar", help="every periodic due date of a policy profile in a year")
    calendar.add_argument("--profile", required=True)
    calendar.add_argument("--year", type=int, required=True)
    calendar.add_argument("--format", choices=["text", "json"], default="text")
    owed = commands.add_parser("obligations", help="what a village owes on a date, with status")
    owed.add_argument("--village", required=True)
    owed.add_argument("--date", required=True)
    owed.add_argument("--format", choices=["text", "json"], default="text")
    admin = commands.add_parser("admin", help="directory administration").add_subparsers(dest="admin", required=True)
    imp = admin.add_parser("import", help="create or update a township from a directory YAML file")
    imp.add_argument("file", type=Path)
    arch = admin.add_parser("export-archive", help="a village's notices of one quarter as CSV and printable HTML")
    arch.add_argument("--village", required=True)
    arch.add_argument("--quarter", required=True, help="e.g. 2026Q3")
    arch.add_argument("--output-dir", type=Path, default=Path("."))
    arch.add_argument("--lang", choices=["zh", "en"], default="zh")
    exp = admin.add_parser("export", help="write a township back as a directory YAML file")
    exp.add_argument("--township", required=True)
    exp.add_argument("--output", "-o", type=Path)
    poster = admin.add_parser("poster", help="the printable poster (PDF) of a notice, or of a village's quarter")
    which = poster.add_mutually_exclusive_group(required=True)
    which.add_argument("--notice", type=int, help="a published notice's id")
    which.add_argument("--village", help="a village's code (with --quarter: that quarter's board)")
    poster.add_argument("--quarter", help="e.g. 2026Q3, with --village")
    poster.add_argument("--size", choices=["a4", "a3"], default="a4")
    poster.add_argument("--lang", choices=["zh", "en"], help="default: the village's language")
    poster.add_argument("--output", "-o", type=Path)
    rep = admin.add_parser("report", help="a township's compliance report for a quarter")
    rep.add_argument("--township", required=True)
    rep.add_argument("--quarter", required=True)
    rep.add_argument("--format", choices=["csv", "png"], default="csv")
    rep.add_argument("--output", "-o", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    entry = argv is None  # the program itself (the `cunwu` script, python -m), not a caller inside a process
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    if entry and args.command in LEAN_COMMANDS:
        _lean_restart()
    if args.command == "screen":
        from services.privacy import cli_main

        return cli_main(argv[1:])
    settings: Settings | None = None
    try:
        settings = load_settings()
        if args.command == "calendar":  # no database: CATALOG_DIRS and DEFAULT_LANGUAGE only
            from bot.cli.deadlines import calendar

            return calendar(settings, args.profile, args.year, args.format)
        setup_logging(settings.log_level, [settings.bot_token.get_secret_value()])
        return _run_async(args, settings)
    except (ConfigError, CatalogError) as error:
        return _refuse(str(error))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        refusal = _telegram_refusal(error, settings)
        if refusal is None:
            raise
        return _refuse(refusal)


def _lean_restart() -> None:
    """Replace this process (same pid, so signals, exit codes and supervisors are unaffected) with the same
    command under `python -OO -X no_debug_ranges`, with MALLOC_ARENA_MAX=2 unless the environment sets it,
    before anything heavy is imported. -OO drops the docstrings of the ~1,700 modules a bot loads, about 6 MB
    resident; no_debug_ranges drops the column tables of their code objects (tracebacks keep their line
    numbers, not the ^^^ markers), about 1 MB where the bytecode was compiled so (the Makefile does it); two
    malloc arenas instead of one per thread (aiosqlite's connections, the thread pool aiogram runs filters in,
    the scheduler's job store) keep freed memory reusable, about 2 MB after 1,000 updates (docs/benchmarks.md).
    Nothing here reads a docstring or relies on `assert` (the asserts left are invariants, as mypy reads
    them). CUNWU_LEAN=0 in the environment turns it off (a debugger, a profiler, a platform without exec)."""
    lean = os.environ.get(LEAN, "1")
    if lean in ("0", LEAN_DONE) or not sys.executable or not hasattr(os, "execve"):
        return
    optimize = max(0, 2 - sys.flags.optimize)  # -O or PYTHONOPTIMIZE already count; -OOO would miss the .pyc
    if not optimize and os.environ.get("MALLOC_ARENA_MAX"):
        return
    env = {**os.environ, LEAN: LEAN_DONE}
    env.setdefault("MALLOC_ARENA_MAX", "2")
    flags = (["-" + "O" * optimize] if optimize else []) + ["-X", "no_debug_ranges"]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *flags, *sys.orig_argv[1:]], env)


def _telegram_refusal(error: Exception, settings: Settings | None) -> str | None:
    """`webhook` calls Telegram (setWebhook) before its start-up check: Telegram's refusal is one line too.
    aiogram is imported only when it was (its import is heavy and most commands never need it)."""
    if "aiogram" not in sys.modules or settings is None:
        return None
    from aiogram.exceptions import TelegramAPIError

    from bot.process.app import telegram_refusal

    if not isinstance(error, TelegramAPIError):
        return None
    return str(telegram_refusal(error, settings.telegram_api_url))


def _refuse(reason: str) -> int:
    """The one line an operator reads, and the exit code scripts check."""
    print(f"cunwu: {reason}", file=sys.stderr)
    return EXIT_CONFIG


def _run_async(args: argparse.Namespace, settings: Settings) -> int:
    commands: dict[str, Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]] = {
        "run": _run, "webhook": _webhook, "migrate": _migrate, "demo": _demo, "admin": _admin,
        "obligations": _obligations,
    }
    return asyncio.run(commands[args.command](args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.process.app import run

    await run(settings)
    return 0


async def _webhook(args: argparse.Namespace, settings: Settings) -> int:
    from bot.process.webhook import serve

    settings.require_token()
    await serve(settings)
    return 0


async def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.process.prepare import prepare

    runtime = await prepare(settings)
    await runtime.close()
    print("database is at the newest schema")
    return 0


async def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from demo.story import play

    return await play(lang=args.lang, board_dir=args.board_dir, serve=args.serve)


async def _admin(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.admin import export_archive, export_directory, import_directory

    if args.admin == "report":
        from bot.cli.deadlines import report

        return await report(settings, args.township, args.quarter, args.format, args.output)
    if args.admin == "import":
        return await import_directory(settings, args.file)
    if args.admin == "export-archive":
        return await export_archive(settings, args.village, args.quarter, args.output_dir, args.lang)
    if args.admin == "poster":
        from bot.cli.posters import poster

        return await poster(settings, args)
    return await export_directory(settings, args.township, args.output)


async def _obligations(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli.deadlines import list_obligations

    return await list_obligations(settings, args.village, args.date, args.format)


if __name__ == "__main__":
    raise SystemExit(main())
