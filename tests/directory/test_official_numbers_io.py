"""Official numbers in the directory file (issue 11, point 3): a village's and a township's, imported,
exported, read by the board's seam and by the screen; a number that is no phone names its line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from bot.process.runtime import Runtime
from models import OfficialNumber, Village
from services.board import official
from services.people import official_numbers
from services.people.directory_io import DirectoryFileError, export_township, import_file, parse
from services.privacy import screen

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "directory.example.yaml"


async def _import(runtime: Runtime, text: str) -> None:
    async with runtime.sessions() as session:
        await import_file(session, parse(text))
        await session.commit()


async def test_the_example_file_sets_the_numbers_and_the_board_reads_them(runtime: Runtime) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    await _import(runtime, text)
    await _import(runtime, text)  # idempotent: still one row per owner and kind
    async with runtime.sessions() as session:
        rows = list(await session.exec(select(OfficialNumber)))
        xinglong = (await session.exec(select(Village).where(Village.code == "xinglong"))).one()
        dongfeng = (await session.exec(select(Village).where(Village.code == "dongfeng"))).one()
        assert await official.supervision_phone(session, xinglong) == "0571-87654321"
        assert await official.supervision_phone(session, dongfeng) == "0571-86000000"  # the township's line
        keys = await official_numbers.keys(session, xinglong.id or 0)
        exported = yaml.safe_load(await export_township(session, "hongqi"))
    assert sorted((r.kind, r.number) for r in rows) == [
        ("office", "138-1234-5678"), ("supervision", "0571-86000000"), ("supervision", "0571-87654321")]
    notice = "监督电话 0571 8765 4321，办公电话 13812345678，镇监督电话 (0571)86000000，王五 13912345678"
    assert [f.text for f in screen(notice, keys)] == ["13912345678"]
    assert exported["township"]["official_numbers"] == {"supervision": "0571-86000000"}
    assert exported["villages"][0]["official_numbers"] == {"office": "138-1234-5678", "supervision": "0571-87654321"}
    assert "official_numbers" not in exported["villages"][1]


def test_a_number_that_is_no_phone_names_its_line() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("office: 138-1234-5678", "office: 12345")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "office: 12345" in row)
    expected = r"^directory.yaml:(\d+): villages.0.official_numbers: .*'12345'"
    with pytest.raises(DirectoryFileError, match=expected) as error:
        parse(text)
    assert line - 3 <= int(error.value.args[0].split(":")[1]) <= line


def test_an_unquoted_mobile_is_read_as_text() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("office: 138-1234-5678", "office: 13812345678")
    assert parse(text).villages[0].official_numbers == {"supervision": "0571-87654321", "office": "13812345678"}


def test_an_unknown_kind_is_refused() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("office: 138-1234-5678", "fax: 0571-87654322")
    with pytest.raises(DirectoryFileError, match="official_numbers"):
        parse(text)
