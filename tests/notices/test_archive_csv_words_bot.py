"""The archive CSV speaks the deployment's language in its cells too (issue 12, point 9): the state column says
已公开 / 已撤回 in Chinese and published / retracted in English, never the database's codes in a zh file."""

from __future__ import annotations

import asyncio
import csv
import re
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.harness import Harness
from tests.notice_fixtures import seed_village
from tests.notices.test_archive_bot import publish, retract_last

CJK = re.compile(r"[\u3400-\u9fff]")


def _export(h: Harness, folder: Path, monkeypatch: pytest.MonkeyPatch, lang: str) -> list[list[str]]:
    monkeypatch.setenv("DATABASE_URL", h.runtime.settings.database_url)
    out = folder / lang
    assert main(["admin", "export-archive", "--village", "xinglong", "--quarter", "2026Q2", "--output-dir", str(out),
                 "--lang", lang]) == 0
    with (out / "archive-xinglong-2026Q2.csv").open(encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


async def test_the_state_column_is_in_the_deployments_words(harness: Harness, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    await publish(h, cast, "低保名单公示", "低保户名单见村委会。")
    await retract_last(h, cast, "名单有误")
    await publish(h, cast, "村道维修公示", "维修村道3公里。")
    zh = await asyncio.to_thread(_export, h, tmp_path, monkeypatch, "zh")
    en = await asyncio.to_thread(_export, h, tmp_path, monkeypatch, "en")
    column = zh[0].index("状态")
    assert [row[column] for row in zh[1:]] == ["已撤回", "已公开"]
    column = en[0].index("State")
    assert [row[column] for row in en[1:]] == ["retracted", "published"]
    assert not any(CJK.search(cell) for cell in en[0])
