"""`cunwu obligations` and `cunwu admin report`: the deadline services from the command line."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from bot.app import prepare
from bot.settings import ConfigError, Settings
from services import compliance, obligations
from services.errors import DomainError


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ConfigError(f"--date: {text!r} is not a date (YYYY-MM-DD)") from error


async def list_obligations(settings: Settings, village_code: str, day_text: str, fmt: str) -> int:
    day = _day(day_text)
    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:
            village, owed = await obligations.village_on(session, runtime.policy, village_code, day)
    except DomainError:
        print(f"cunwu: no village {village_code!r}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    rows = [o.as_dict() for o in owed]
    if fmt == "json":
        print(json.dumps({"village": village.code, "date": day.isoformat(), "obligations": rows},
                         ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        label = row["zh"] or row["cadence"]
        print(f"{row['status']:<12} {row['due'] or '-':<10} {row['period'] or '-':<8} "
              f"{row['item'] or row['key']} {label}")
    return 0


async def report(settings: Settings, township_code: str, quarter: str, fmt: str, output: Path | None) -> int:
    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:
            township = await compliance.township_by_code(session, township_code)
            found = await compliance.township_report(session, runtime.policy, township,
                                                     compliance.parse_quarter(quarter), runtime.clock.now())
    except DomainError as error:
        print(f"cunwu: {error.key} {error.params}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    if fmt == "csv":
        text = compliance.as_csv(found)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
        return 0
    png = compliance.chart_png(found)
    if output is None:
        sys.stdout.buffer.write(png)
    else:
        output.write_bytes(png)
    return 0
