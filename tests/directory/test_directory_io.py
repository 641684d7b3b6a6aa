"""`cunwu admin import/export`: whole townships, idempotent, all-or-nothing, errors naming line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func
from sqlmodel import col, select

from bot.cli.main import main
from bot.process.runtime import Runtime
from models import BoundChat, Person, RoleGrant, Township, Village
from services.people.directory_io import DirectoryFileError, export_township, import_file, parse

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "directory.example.yaml"


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
    original = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    again = parse(exported).model_dump(mode="json")
    for key, value in original["township"].items():
        assert again["township"][key] == value, key
    for given, written in zip(original["villages"], again["villages"], strict=True):
        for key, value in given.items():
            if key == "roles":  # the export lists each role's people in id order
                assert {r: sorted(ids) for r, ids in written[key].items()} == {
                    r: sorted(ids) for r, ids in value.items()}
            else:
                assert written[key] == value, (given["code"], key)
    await _import(runtime, exported)  # importing the export changes nothing
    assert await _count(runtime, RoleGrant) == 10
    async with runtime.sessions() as session:
        assert await export_township(session, "hongqi") == exported


async def test_a_role_dropped_from_the_file_is_revoked_but_residents_stay(runtime: Runtime) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    await _import(runtime, text)
    await _import(runtime, text.replace("supervisor: [200003, 200004]", "supervisor: [200003]")
                  .replace("resident: [200006, 200005]", "resident: []"))
    async with runtime.sessions() as session:
        rows = await session.exec(select(RoleGrant.role, RoleGrant.status, Person.tg_user_id)
                                  .join(Person, col(Person.id) == RoleGrant.person_id))
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
        ("  timezone: Asia/Shanghai ", "  timezone: Mars/Base "),
        ("    review_chain: [secretary, supervisor]", "    review_chain: [secretary, staff]"),
        ("    review_chain: [secretary, supervisor]", "    review_chain: [secretary, secretary]"),
        ("    review_chain: [secretary]", "    review_chain: [representative]"),
        ("    groups: [-1001000000011, -1001000000012]", "    groups: [-1001000000011, -1001000000001]"),
        ("    groups: [-1001000000011, -1001000000012]", "    groups: [-1001000000011, -1001000000011]"),
        ("    review_chain: [secretary]\n", "    review_chain: [secretary]\n    groups: [-1001000000012]\n"),
    ],
)
def test_malformed_file_names_line_and_field(broken: str, expected: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert broken in text
    bad = text.replace(broken, expected, 1)
    last = expected.rstrip("\n").split("\n")[-1]
    line = max(n for n, ln in enumerate(bad.splitlines(), 1) if ln.startswith(last))
    with pytest.raises(DirectoryFileError) as caught:
        parse(bad, "dir.yaml")
    message = str(caught.value)
    assert message.startswith(f"dir.yaml:{line}:") or message.startswith(f"dir.yaml:{line - 1}:"), message
    assert message.split(": ")[1].startswith(("villages.", "township")), message


def test_not_yaml_at_all_names_the_line() -> None:
    with pytest.raises(DirectoryFileError, match=r"dir.yaml:3: not valid YAML"):
        parse("township:\n  code: a\n  name: b: c\n", "dir.yaml")


@pytest.mark.parametrize(
    ("broken", "expected", "field", "reason"),
    [
        ("    profile: jiangyuan ", "    profile: atlantis ", "villages.0.profile", "unknown profile 'atlantis'"),
        ("    kind: community\n", "    kind: community\n    catalog: nowhere\n", "villages.1.catalog",
         "unknown catalog 'nowhere'"),
        ("    kind: community\n", "    kind: community\n    catalog: jyv\n", "villages.1.catalog",
         "is for a village, not a community"),
    ],
)
async def test_profiles_and_catalogs_must_be_loaded_ones(runtime: Runtime, broken: str, expected: str, field: str,
                                                         reason: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert broken in text
    bad = text.replace(broken, expected, 1)
    line = max(n for n, ln in enumerate(bad.splitlines(), 1) if ln.startswith(expected.rstrip("\n").split("\n")[-1]))
    async with runtime.sessions() as session:
        with pytest.raises(DirectoryFileError) as caught:
            await import_file(session, parse(bad, "dir.yaml"), runtime.policy.registry)
    assert str(caught.value).startswith(f"dir.yaml:{line}: {field}: ") and reason in str(caught.value)
    assert await _count(runtime, Village) == 0


NEIGHBOUR = """\
township: {code: qingshan, name: 青山镇}
villages:
  - code: qingshan1
    name: 青山一村
  - code: %s
    name: 抢来的村
    groups: [%s]
"""


async def test_a_file_cannot_take_a_village_or_group_of_another_township(runtime: Runtime) -> None:
    await _import(runtime, EXAMPLE.read_text(encoding="utf-8"))
    async with runtime.sessions() as session:
        with pytest.raises(DirectoryFileError, match=r"^n.yaml:5: villages.1.code: village 'xinglong' belongs to "
                                                     r"township 'hongqi'; a file cannot move it$"):
            await import_file(session, parse(NEIGHBOUR % ("xinglong", -1), "n.yaml"))
    async with runtime.sessions() as session:
        with pytest.raises(DirectoryFileError, match=r"^n.yaml:7: villages.1.groups.0: chat -1001000000012 serves "
                                                     r"township 'hongqi'"):
            await import_file(session, parse(NEIGHBOUR % ("qingshan2", -1001000000012), "n.yaml"))
    async with runtime.sessions() as session:
        with pytest.raises(DirectoryFileError, match=r"^n.yaml:7: villages.1.groups.0: chat -1001000000001 serves "
                                                     r"township 'hongqi'"):
            await import_file(session, parse(NEIGHBOUR % ("qingshan2", -1001000000001), "n.yaml"))


async def test_a_mistake_found_half_way_leaves_nothing_through_the_command(
        runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """The second village is refused after the township, its inspectors and the first village were written
    in the transaction: the command rolls all of it back."""
    await _import(runtime, EXAMPLE.read_text(encoding="utf-8"))
    before = await _snapshot(runtime)
    second = tmp_path / "qingshan.yaml"
    second.write_text((NEIGHBOUR % ("xinglong", -1)).replace("{code: qingshan, name: 青山镇}",
                                                             "{code: qingshan, name: 青山镇, inspectors: [100001]}"),
                      encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", runtime.settings.database_url)
    assert await _in_thread(main, ["admin", "import", str(second)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"cunwu: {second}:5: villages.1.code: ") and err.count("\n") == 1
    assert await _snapshot(runtime) == before


async def _snapshot(runtime: Runtime) -> tuple[list[tuple[object, ...]], ...]:
    async with runtime.sessions() as session:
        return (
            sorted((t.code, t.name) for t in await session.exec(select(Township))),
            sorted((v.code, v.name, v.township_id) for v in await session.exec(select(Village))),
            sorted((g.person_id, g.role, g.village_id, g.township_id, g.status)
                   for g in await session.exec(select(RoleGrant))),
            sorted((c.chat_id, c.village_id, c.township_id) for c in await session.exec(select(BoundChat))),
            sorted((p.tg_user_id,) for p in await session.exec(select(Person))),
        )


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
