"""The archive: /archive by quarter in the village's own time, a choice for people of several villages, and
the export (CSV and printable page) that keeps a retracted notice's title, dates and reason but not its
content, with spreadsheet formulas defused."""

from __future__ import annotations

import asyncio
import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.base.clock import FakeClock
from bot.cli.main import main
from bot.ui.texts import Texts
from services.notices.archive import CSV_FIELDS
from services.people import directory
from services.people.roles import Role
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


async def publish(h: Harness, cast: Cast, title: str, body: str) -> None:
    await h.say(cast.staff, "/draft")
    await h.tap(cast.staff, "临时公开")
    await h.say(cast.staff, title)
    await h.say(cast.staff, body)
    await h.tap(cast.staff, "完成")
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")


async def retract_last(h: Harness, cast: Cast, reason: str) -> None:
    await h.say(cast.staff, "/archive")
    await h.tap(cast.staff, "撤回")
    await h.say(cast.staff, reason)
    await h.tap(cast.secretary, "撤回")


async def export(h: Harness, folder: Path, monkeypatch: pytest.MonkeyPatch, quarter: str) -> tuple[list[dict], str]:
    monkeypatch.setenv("DATABASE_URL", h.runtime.settings.database_url)
    code = await asyncio.to_thread(main, ["admin", "export-archive", "--village", "xinglong", "--quarter", quarter,
                                          "--output-dir", str(folder)])
    assert code == 0
    heading = {Texts().plain("zh", f"csv.archive.{f}"): f for f in CSV_FIELDS}  # the headings are in Chinese
    with (folder / f"archive-xinglong-{quarter}.csv").open(encoding="utf-8-sig") as handle:
        rows = [{heading[k]: v for k, v in row.items()} for row in csv.DictReader(handle)]
    return rows, (folder / f"archive-xinglong-{quarter}.html").read_text(encoding="utf-8")


async def test_export_prints_a_retracted_notice_without_its_content(harness: Harness, cast: Cast, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    await publish(h, cast, "低保名单公示", "低保户：张三，住址：兴隆村三组十八号。")
    await retract_last(h, cast, "误将住址公开")
    await publish(h, cast, "=HYPERLINK(\"http://x.example\",\"点我\")", "-100 元为退款；@SUM(A1) 不是公式。")
    rows, page = await export(h, tmp_path, monkeypatch, "2026Q2")

    retracted, live = rows
    assert retracted["state"] == "已撤回" and retracted["title"] == "低保名单公示"
    assert retracted["body"] == "" and retracted["reviewers"] == "" and retracted["item"] == ""
    assert retracted["reason"] == "误将住址公开" and retracted["retracted_at"] == "2026-04-03 10:00"
    assert retracted["published_at"] == "2026-04-03 10:00"
    assert "住址" not in page.replace("误将住址公开", "") and "张三" not in page
    assert "已撤回" in page and "撤回理由：误将住址公开" in page
    assert live["title"].startswith("'=HYPERLINK") and live["body"].startswith("'-100")
    assert live["state"] == "已公开" and "张书记" in live["reviewers"]


async def test_dates_are_the_villages_own(harness: Harness, cast: Cast, clock: FakeClock, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    h = harness
    clock.set(datetime(2026, 6, 30, 17, 30, tzinfo=UTC))  # 01:30 on 1 July in Asia/Shanghai: the third quarter
    await publish(h, cast, "七月一日的公示", "本月收支见下。")
    await h.say(cast.resident, "/archive")
    shown = h.last(cast.resident)
    assert "兴隆村 · 2026年第三季度 已公开内容" in shown and "07-01 七月一日的公示" in shown
    await h.say(cast.resident, "/archive 2026Q2")
    assert "本季度还没有公开内容" in h.last(cast.resident)
    rows, _ = await export(h, tmp_path, monkeypatch, "2026Q3")
    assert rows[0]["published_at"] == "2026-07-01 01:30"


async def test_a_person_of_two_villages_chooses_which_archive(harness: Harness, cast: Cast) -> None:
    h = harness
    await publish(h, cast, "兴隆村的公示", "内容。")
    async with h.runtime.sessions() as session:
        rival = await directory.person_by_tg(session, cast.rival.id)
        xinglong = await directory.village_by_code(session, "xinglong")
        assert rival is not None and xinglong is not None
        await directory.grant_role(session, rival.id or 0, Role.RESIDENT, village_id=xinglong.id)
        await session.commit()
    await h.say(cast.rival, "/archive")
    assert "请选择查看哪个村" in h.last(cast.rival)
    await h.tap(cast.rival, "兴隆村")
    assert "兴隆村 · 2026年第二季度 已公开内容" in h.last(cast.rival) and "兴隆村的公示" in h.last(cast.rival)
    shown = h.world.bot_messages(h.world.private_chat(cast.rival))[-1].buttons  # a resident there: no 更正
    assert shown and not any("更正" in b or "撤回" in b for b in shown)
    await h.tap(cast.rival, "东风村")
    assert "东风村 · 2026年第二季度 已公开内容" in h.last(cast.rival) and "还没有公开内容" in h.last(cast.rival)
    await h.say(cast.rival, "/archive 2026-04")
    assert "季度格式应为" in h.last(cast.rival)
    # A village the person does not belong to, by a modified client: refused on the server.
    chat = h.world.private_chat(cast.resident)
    await h.forge_tap(cast.resident, chat, 1, f"av1:{(xinglong.id or 0) + 1}:2026Q2")
    assert "失效" in h.last_alert()


# The state column says 已公开 / 已撤回 in Chinese and published / retracted in English (issue 12, point 9).
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
