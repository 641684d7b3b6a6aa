"""`cunwu admin ...`: operator commands over the same services the bot uses."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.base.settings import ConfigError, Settings
from bot.process.prepare import prepare
from services.notices import duties
from services.people.directory_io import DirectoryFileError, export_township, import_file, parse


async def import_directory(settings: Settings, path: Path) -> int:
    try:
        directory = parse(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    except DirectoryFileError as error:
        print(f"cunwu: {error}", file=sys.stderr)
        return 1
    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:  # one transaction: an error half-way leaves nothing
            counts = await import_file(session, directory, runtime.policy.registry)
            await session.commit()
            warnings = await duties.village_warnings(session)
    except DirectoryFileError as error:
        print(f"cunwu: {error}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    print(f"imported township {directory.township.code}: {counts['villages']} villages, "
          f"{counts['roles']} roles, {counts['groups']} groups")
    for village, author, missing in warnings:
        print(unstaffed_warning(village.code, village.name, author.name if author else None,
                                [role.value for role in missing]), file=sys.stderr)
    return 0


def unstaffed_warning(code: str, name: str, author: str | None, missing: list[str]) -> str:
    """One line for the operator (English, like the command's other output): which village's review chain
    cannot be decided by people other than the author, one per stage."""
    if author is None:
        return f"cunwu: warning: village {code} ({name}) has no staff: nobody can draft its notices"
    return (f"cunwu: warning: village {code} ({name}): a notice by {author} cannot be reviewed by distinct "
            f"people other than its author; missing: {', '.join(missing)} (give these roles to more people)")


async def export_directory(settings: Settings, township: str, output: Path | None) -> int:
    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:
            text = await export_township(session, township)
    except DirectoryFileError as error:
        print(f"cunwu: {error}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    return 0


async def export_archive(settings: Settings, village: str, quarter: str, output_dir: Path, lang: str) -> int:
    """A quarter's notices as CSV and as a printable HTML page for the physical board."""
    import csv

    from services.errors import DomainError
    from services.notices.archive import CSV_FIELDS, csv_row, export_rows

    runtime = await prepare(settings)
    try:
        async with runtime.sessions() as session:
            found, rows = await export_rows(session, runtime.policy, village, quarter)
    except DomainError as error:
        print(f"cunwu: {runtime.texts.t(lang, error.key, **error.params)}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = output_dir / f"archive-{village}-{quarter}"
    with stem.with_suffix(".csv").open("w", encoding="utf-8-sig", newline="") as handle:  # BOM: Excel reads UTF-8
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writerow({field: runtime.texts.plain(lang, f"csv.archive.{field}") for field in CSV_FIELDS})
        writer.writerows(csv_row(row, lang, lambda role: runtime.texts.plain(lang, f"role.{role}"),
                                 lambda state: runtime.texts.plain(lang, f"csv.archive_state.{state}")) for row in rows)
    page = runtime.texts.render(lang, "archive_print", village=found, unit=runtime.policy.issuing_unit(found),
                                quarter=quarter, notices=rows)
    stem.with_suffix(".html").write_text(page, encoding="utf-8")
    print(f"{len(rows)} notices: {stem}.csv, {stem}.html")
    return 0
