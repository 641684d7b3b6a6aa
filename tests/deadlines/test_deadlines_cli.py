"""The deadline commands as an operator types them: `cunwu obligations`, `cunwu admin report` (CSV and
PNG), `cunwu calendar` (text, JSON, a deployment's own profile from CATALOG_DIRS); every refusal one line
in the deployment's language, and a village with broken settings isolated from the others."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from catalogs.registry import PACKAGE_DIR
from models import Notice
from services.deadlines import compliance
from services.people import directory

CREATED = datetime(2025, 12, 1, tzinfo=UTC)  # the villages joined the bot before 2026Q1 fell due


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BOT_TOKEN", "")
    for name in ("DEFAULT_LANGUAGE", "CATALOG_DIRS", "POLICY_PROFILE", "DEFAULT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    return database_url


def _seed(database_url: str, *, broken: bool = False) -> None:
    """Township hongqi: xinglong (one quarterly item published on time for 2025Q4) and, when asked,
    dongfeng whose profile an import let in although no such profile exists."""
    async def seed() -> None:
        from bot.base.settings import Settings
        from bot.process.runtime import build_runtime

        runtime = build_runtime(Settings(_env_file=None, database_url=database_url))
        async with runtime.sessions() as session:
            village = await directory.create_village(session, "hongqi", "xinglong", "兴隆村")
            village.created_at = CREATED
            person = await directory.get_or_create_person(session, 1, "王会计", None)
            session.add(Notice(village_id=village.id or 0, author_id=person.id or 0, item_id="jyv:sw.14",
                               period="2025Q4", title="t", body="b", state="published",
                               published_at=datetime(2026, 1, 8, 2, tzinfo=UTC)))
            if broken:
                other = await directory.create_village(session, "hongqi", "dongfeng", "东风村")
                other.profile, other.created_at = "no_such_profile", CREATED
            await session.commit()
        await runtime.close()

    asyncio.run(seed())


def test_obligations_json_and_text(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_env)
    assert main(["obligations", "--village", "xinglong", "--date", "2026-01-10", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["village"] == "xinglong" and data["date"] == "2026-01-10"
    q4 = {o["item"]: o for o in data["obligations"] if o["period"] == "2025Q4"}
    assert q4.pop("jyv:sw.14")["status"] == "met_on_time"
    assert q4 and all(o["status"] == "due" and o["due"] == "2026-01-10" for o in q4.values())
    assert not [o for o in data["obligations"] if o["period"] == "2025Q3"]  # due 2025-10-10, before joining
    assert main(["obligations", "--village", "xinglong", "--date", "2026-04-11", "--format", "json"]) == 0
    owed = json.loads(capsys.readouterr().out)["obligations"]
    late = {(o["item"], o["period"]) for o in owed if o["status"] == "overdue"}
    assert ("jyv:cw.1", "2025Q4") in late and ("jyv:cw.1", "2026Q1") in late  # unmet periods stay owed
    assert ("jyv:sw.14", "2025Q4") not in late
    assert main(["obligations", "--village", "xinglong", "--date", "2026-04-11"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("兴隆村（xinglong）2026-04-11 应公开事项")
    assert "已逾期  2026-04-10  2026年第一季度  jyv:cw.1 " in text and "待公开" in text and "dl.status" not in text


def test_unknown_village_and_township_are_one_line_in_the_deployment_language(
        cli_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(cli_env)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")  # the migration's INFO lines are not what this is about
    assert main(["obligations", "--village", "nowhere", "--date", "2026-04-11"]) == 1
    assert capsys.readouterr().err == "cunwu: 找不到村 nowhere。\n"
    assert main(["obligations", "--village", "xinglong", "--date", "2026-02-30"]) == 1
    assert capsys.readouterr().err == "cunwu: “2026-02-30”不是有效日期。请按 年-月-日 输入，例如 2026-05-20。\n"
    assert main(["admin", "report", "--township", "nope", "--quarter", "2026Q1"]) == 1
    assert capsys.readouterr().err == "cunwu: 找不到乡镇 nope。\n"
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    assert main(["admin", "report", "--township", "hongqi", "--quarter", "2026Q5"]) == 1
    assert capsys.readouterr().err == 'cunwu: "2026Q5" is not a quarter. Please type it like 2026Q3.\n'


def test_report_csv_isolates_a_village_with_broken_settings(cli_env: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    _seed(cli_env, broken=True)
    assert main(["admin", "report", "--township", "hongqi", "--quarter", "2026Q1", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    lines = list(csv.reader(io.StringIO(captured.out)))
    assert lines[0][:3] == ["村代码", "村名", "季度"] and len(lines[0]) == len(compliance.CSV_FIELDS)
    rows = {(r[0], r[2]): r for r in lines[1:]}
    assert len(rows) == 2 * compliance.QUARTERS_SHOWN
    good = rows[("xinglong", "2026年第一季度")]  # 2025Q4 fell due in 2026Q1 (the report counts by due date)
    assert (good[3], good[-1]) == ("1", "") and int(good[5]) > 0  # one on time; the rest overdue
    assert "no_such_profile" in rows[("dongfeng", "2026年第一季度")][-1]
    assert rows[("xinglong", "2025年第三季度")][3:7] == ["0", "0", "0", "0"]  # before the village joined: not owed
    assert "ERROR cunwu.deadlines: village dongfeng skipped by the report of hongqi: unknown profile " \
           "'no_such_profile'" in captured.err
    assert main(["obligations", "--village", "dongfeng", "--date", "2026-04-11"]) == 1
    assert "dongfeng" in capsys.readouterr().err


def _png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n" and content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def test_report_png_from_the_command_line(cli_env: str, tmp_path: Path) -> None:
    _seed(cli_env, broken=True)
    out = tmp_path / "report.png"
    assert main(["admin", "report", "--township", "hongqi", "--quarter", "2026Q1", "--format", "png",
                 "-o", str(out)]) == 0
    assert _png_size(out.read_bytes()) == compliance.chart_size(2, compliance.QUARTERS_SHOWN)


def test_calendar_text_and_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CATALOG_DIRS", raising=False)
    monkeypatch.delenv("DEFAULT_LANGUAGE", raising=False)
    assert main(["calendar", "--profile", "dawukou", "--year", "2028"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("大武口区村务公开") and "2028 年公开日历" in text
    assert "月度  2028年1月       2028-02-29  文件规定\n" in text  # February: its last day
    assert "季度  2028年第一季度  2028-04-30  本地解读 *\n" in text  # borrowed for quarters
    assert "* 本地解读：上级文件未规定季度事项的公开期限" in text and "公示期：不少于 7 天\n" in text
    assert "T-" not in text  # rule ids stay in code and tests (issue 16)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    assert main(["calendar", "--profile", "dawukou", "--year", "2028"]) == 0
    text = capsys.readouterr().out
    assert "quarterly  Q1 2028         2028-04-30  local reading *" in text
    assert "* local reading: the published rules set no date for quarterly items" in text and "T-" not in text
    assert main(["calendar", "--profile", "yubei", "--year", "2026", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"cadence": "quarterly", "period": "2026Q1", "due": "2026-04-15"} in rows and len(rows) == 17
    assert main(["calendar", "--profile", "nope", "--year", "2026"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cunwu: unknown profile 'nope'") and err.count("\n") == 1


def test_calendar_shows_a_deployment_profile_from_catalog_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    own = (PACKAGE_DIR / "profiles" / "jiangyuan.yaml").read_text(encoding="utf-8")
    own = own.replace("name: jiangyuan", "name: ourtown").replace("quarterly: {kind: after_period_end, days: 10,",
                                                                   "quarterly: {kind: after_period_end, days: 20,")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "ourtown.yaml").write_text(own, encoding="utf-8")
    monkeypatch.setenv("CATALOG_DIRS", str(tmp_path))
    assert main(["calendar", "--profile", "ourtown", "--year", "2026", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"cadence": "quarterly", "period": "2026Q1", "due": "2026-04-20"} in rows
    monkeypatch.setenv("CATALOG_DIRS", str(tmp_path / "missing"))
    assert main(["calendar", "--profile", "ourtown", "--year", "2026"]) == 2
    assert "not a directory" in capsys.readouterr().err
