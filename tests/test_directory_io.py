"""`cunwu admin import/export`: whole townships, idempotent, all-or-nothing, errors naming line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func
from sqlmodel import select

from bot.cli import main
from bot.runtime import Runtime
from models import BoundChat, Person, RoleGrant, Village
from services.directory_io import DirectoryFileError, export_township, import_file, parse

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "directory.example.yaml"


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def _import(runtime: Runtime, text: str) -> dict[str, int]:
    async with runtime.sessions() as session:
        counts = await import_file(session, parse(text))
        await session.commit()
        return counts


async def test_example_file_imports_and_reimports_idempotently(runtime: Runtime) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    first = await _import(runtime, text)
    sizes = [await _count(runtime, m) for m in (Village, Person, RoleGrant, BoundChat)]
    second = await _import(runtime, text)
    assert first == second == {"villages": 2, "roles": 9, "groups": 2}
    assert [await _count(runtime, m) for m in (Village, Person, RoleGrant, BoundChat)] == sizes
    assert sizes == [2, 9, 10, 3]  # 9 village roles + 1 inspector; 2 resident groups + 1 filing group


async def test_export_round_trips(runtime: Runtime) -> None:
    await _import(runtime, EXAMPLE.read_text(encoding="utf-8"))
    async with runtime.sessions() as session:
        exported = await export_township(session, "hongqi")
    data = yaml.safe_load(exported)
    assert data["township"]["inspectors"] == [100001]
    assert data["township"]["filing_chat_id"] == -1001000000001
    xinglong = data["villages"][0]
    assert xinglong["roles"]["supervisor"] == [200003, 200004]
    assert xinglong["groups"] == [-1001000000011, -1001000000012]
    assert parse(exported).model_dump() == parse(exported).model_dump()
    await _import(runtime, exported)  # importing the export changes nothing
    assert await _count(runtime, RoleGrant) == 10


async def test_a_role_dropped_from_the_file_is_revoked_but_residents_stay(runtime: Runtime) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    await _import(runtime, text)
    await _import(runtime, text.replace("supervisor: [200003, 200004]", "supervisor: [200003]")
                  .replace("resident: [200006, 200005]", "resident: []"))
    async with runtime.sessions() as session:
        rows = await session.exec(select(RoleGrant.role, RoleGrant.status, Person.tg_user_id)
                                  .join(Person, Person.id == RoleGrant.person_id))
        status = {(role, uid): st for role, st, uid in rows}
    assert status[("supervisor", 200004)] == "revoked"
    assert status[("supervisor", 200003)] == "active"
    assert status[("resident", 200006)] == "active"


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("    population: 1200", "    population: -5"),
        ("    kind: village ", "    kind: hamlet "),
        ("    review_chain: [secretary, supervisor]", "    review_chain: [secretary, mayor]"),
        ("  code: hongqi ", "  code: Hong Qi "),
        ("      staff: [200001]", "      inspector: [200001]"),
    ],
)
def test_malformed_file_names_line_and_field(broken: str, expected: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert broken in text
    bad = text.replace(broken, expected, 1)
    line = bad.splitlines().index(next(ln for ln in bad.splitlines() if ln.startswith(expected))) + 1
    with pytest.raises(DirectoryFileError) as caught:
        parse(bad, "dir.yaml")
    message = str(caught.value)
    assert message.startswith(f"dir.yaml:{line}:") or message.startswith(f"dir.yaml:{line - 1}:"), message
    assert "villages.0" in message or "township" in message


def test_not_yaml_at_all_names_the_line() -> None:
    with pytest.raises(DirectoryFileError, match=r"dir.yaml:3: not valid YAML"):
        parse("township:\n  code: a\n  name: b: c\n", "dir.yaml")


async def test_broken_file_changes_nothing_through_the_command(runtime: Runtime, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("dongfeng", "xinglong"), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    code = await _in_thread(main, ["admin", "import", str(bad)])
    assert code == 1
    err = capsys.readouterr().err
    assert "duplicate village code" in err and "\n" == err[-1] and err.count("\n") == 1
    assert await _count(runtime, Village) == 0


async def test_import_and_export_through_the_command(runtime: Runtime, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    assert await _in_thread(main, ["admin", "import", str(EXAMPLE)]) == 0
    assert "2 villages" in capsys.readouterr().out
    out = tmp_path / "out.yaml"
    assert await _in_thread(main, ["admin", "export", "--township", "hongqi", "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["villages"][1]["code"] == "dongfeng"


async def _in_thread(fn, argv):  # the command runs its own event loop
    import asyncio

    return await asyncio.to_thread(fn, argv)
