"""`cunwu obligations`, `cunwu admin report` and `cunwu calendar`: the deadline services from the command line.

What a person reads comes from the locale files in the deployment's DEFAULT_LANGUAGE, like the bot's own
messages: a refusal is one line on stderr and a non-zero exit, never a traceback or a raw message key.
"""

from __future__ import annotations

import html
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.base.settings import Settings
from bot.process.prepare import prepare
from bot.ui.texts import Texts
from catalogs.periods import period_words
from services.deadlines import compliance, obligations
from services.errors import DomainError
from services.township.views import chart_title


def plain(rendered: str) -> str:
    """Templates are rendered for Telegram's HTML; a terminal wants the characters themselves."""
    return html.unescape(rendered)


def refuse(settings: Settings, key: str, **params: object) -> int:
    """One line on stderr in the deployment's language, exit code 1."""
    print(f"cunwu: {Texts(settings.default_language).plain(None, key, **params)}", file=sys.stderr)
    return 1


async def list_obligations(settings: Settings, village_code: str, day_text: str, fmt: str) -> int:
    try:
        day = obligations.parse_day(day_text)
    except DomainError as error:
        return refuse(settings, error.key, **error.params)
    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:
            village, owed = await obligations.village_on(session, runtime.policy, village_code, day)
    except DomainError as error:
        params = {"code": village_code, **error.params} if error.key == "err.no_village" else error.params
        return refuse(settings, "dl.cli_no_village" if error.key == "err.no_village" else error.key, **params)
    finally:
        await runtime.close()
    rows = [o.as_dict() for o in owed]
    if fmt == "json":
        print(json.dumps({"village": village.code, "date": day.isoformat(), "obligations": rows},
                         ensure_ascii=False, indent=2))
        return 0
    from catalogs.calendar_view import align

    texts, lang = Texts(settings.default_language), settings.default_language
    cells = [(texts.plain(lang, f"dl.status.{row['status']}"), str(row["due"] or "-"),
              period_words(str(row["period"] or ""), lang) or "-",
              str(row["item"] or row["key"]), str(row[lang] or texts.plain(lang, f"dl.rule.{row['cadence']}")))
             for row in rows]
    print(plain(texts.render(lang, "obligations_cli", village=village.code, name=village.name, date=day.isoformat(),
                             lines=align(cells) if cells else [])))
    return 0


async def report(settings: Settings, township_code: str, quarter: str, fmt: str, output: Path | None) -> int:
    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:
            township = await compliance.township_by_code(session, township_code)
            found = await compliance.township_report(session, runtime.policy, township,
                                                     compliance.parse_quarter(quarter), runtime.clock.now())
    except DomainError as error:
        return refuse(settings, error.key, **error.params)
    finally:
        await runtime.close()
    if fmt == "csv":
        texts, lang = Texts(settings.default_language), settings.default_language
        text = compliance.as_csv(found, [texts.plain(lang, f"csv.report.{f}") for f in compliance.CSV_FIELDS], lang)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
        return 0
    texts = Texts(settings.default_language)
    lang = settings.default_language
    png = compliance.chart_png(found, compliance.legend(texts.plain, lang),
                               chart_title(texts.plain, lang, found, datetime.now(UTC)), lang)
    if output is None:
        sys.stdout.buffer.write(png)
    else:
        output.write_bytes(png)
    return 0


def calendar(settings: Settings, profile_name: str, year: int, fmt: str) -> int:
    """Every periodic due date of a profile, the deployment's own (CATALOG_DIRS) included."""
    from catalogs import calendar_view as view
    from catalogs import load_registry

    profile = load_registry([Path(d) for d in settings.catalog_dirs]).profile(profile_name)  # CatalogError: cli
    if fmt == "json":
        print(view.render_json(profile, year))
        return 0
    texts, lang = Texts(settings.default_language), settings.default_language
    head = tuple(texts.plain(lang, f"cal.head.{column}") for column in ("cadence", "period", "due", "rule"))
    basis = {True: texts.plain(lang, "reading.basis_local") + " *", False: texts.plain(lang, "reading.basis_seed")}
    rows = [(texts.plain(lang, f"cal.cadence.{row['cadence']}"), period_words(row["period"], lang), row["due"],
             basis[view.rule_of(profile, row["cadence"]).local]) for row in view.calendar(profile, year)]
    print(plain(texts.render(lang, "calendar", profile=profile, year=year, lines=view.align([head, *rows]),
                       borrowed=view.borrowed(profile))))
    return 0
