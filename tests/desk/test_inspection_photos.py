"""Photos of an inspection record: recorded on the console, then /inspections in the bot, a record picked,
photos sent (text and files told what is expected), "done"; the console's inspections page shows the
thumbnails, fetched from Telegram through the bot, only to the township's inspectors; the export counts them;
someone who inspects nothing can neither pick a record nor add a photo."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from bot.ui.keyboards.inspections import InspectionPick
from models import Inspection, InspectionPhoto
from tests.desk.test_console_http import BASE, sign_in
from tests.desk.test_desk_bot import cast  # noqa: F401  (the fixture: 兴隆村 with one obligation overdue)
from tests.harness import Harness
from tests.notice_fixtures import Cast
from tests.web.helpers import board_client, get, post


async def test_photos_sent_in_the_bot_show_on_the_console_and_count_in_the_export(
        harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    await h.say(cast.inspector, "/inspections")
    assert "还没有检查记录" in h.last(cast.inspector)
    async with board_client(h, public_base_url=BASE) as (client, _):
        csrf = await sign_in(h, client, cast.inspector)
        recorded = await post(client, "/console/t/hongqi/inspections", data={
            "csrf": csrf, "day": "2026-04-02", "kind": "on_site", "v_1": "公开栏玻璃破损"})
        assert recorded.status == 200 and "/inspections" in recorded.text

        await h.say(cast.inspector, "/inspections")
        assert "最近的检查记录" in h.last(cast.inspector)
        await h.tap(cast.inspector, "2026-04-02 实地检查（0 张照片）")
        assert "请发送 2026-04-02 实地检查 的现场照片" in h.last(cast.inspector)
        await h.say(cast.inspector, "公开栏在村委会门口")
        assert "这里需要照片" in h.last(cast.inspector)
        h.world.user_sends_document(cast.inspector, h.world.private_chat(cast.inspector), "board.pdf")
        await h.flush()
        assert "这里需要照片" in h.last(cast.inspector)
        for _ in range(2):
            h.world.user_sends_photo(cast.inspector, h.world.private_chat(cast.inspector))
            await h.flush()
        assert "照片已保存（这条检查记录共 2 张）" in h.last(cast.inspector)
        answered = len(h.texts(cast.inspector))
        for _ in range(3):  # an album: a message per photo, one answer
            h.world.user_sends_photo(cast.inspector, h.world.private_chat(cast.inspector), media_group_id="a1")
        await h.flush()
        assert len(h.texts(cast.inspector)) == answered + 1 and "正在保存这组照片" in h.last(cast.inspector)
        await h.tap(cast.inspector, "完成")
        assert "2026-04-02 实地检查 的检查记录共有 5 张照片" in h.last(cast.inspector)
        h.world.user_sends_photo(cast.inspector, h.world.private_chat(cast.inspector))  # after "done": not kept
        await h.flush()

        page = (await get(client, "/console/t/hongqi/inspections")).text
        async with h.runtime.sessions() as session:
            photos = list(await session.exec(select(InspectionPhoto).order_by(InspectionPhoto.id)))  # type: ignore[arg-type]
        assert len(photos) == 5
        paths = [f"/console/t/hongqi/photo/{p.id}.jpg" for p in photos]
        assert all(f'src="{path}"' in page for path in paths) and photos[0].file_id not in page
        shown = await get(client, paths[0])
        assert shown.status == 200 and shown.headers["Content-Type"] == "image/jpeg"
        assert shown.body.startswith(b"\xff\xd8\xff")  # the picture itself, fetched through the bot
        assert (await get(client, f"/console/t/hongqi/photo/{(photos[-1].id or 0) + 100}.jpg")).status == 404
        text = (await get(client, "/console/t/hongqi/export/inspections.csv")).body.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0][4] == "现场照片数" and lines[1][4] == "5" and lines[1][-1] == "公开栏玻璃破损"

    async with board_client(h, public_base_url=BASE) as (stranger, _):  # nobody signed in
        assert (await get(stranger, paths[0])).status == 401


async def test_someone_who_inspects_nothing_cannot_add_photos(harness: Harness, cast: Cast) -> None:  # noqa: F811
    h = harness
    h.runtime.settings.public_base_url = BASE
    async with board_client(h, public_base_url=BASE) as (client, _):
        csrf = await sign_in(h, client, cast.inspector)
        await post(client, "/console/t/hongqi/inspections", data={"csrf": csrf, "day": "2026-04-02",
                                                                  "kind": "half_monthly"})
    async with h.runtime.sessions() as session:
        inspection = (await session.exec(select(Inspection))).one()
    await h.say(cast.staff, "/inspections")
    assert "镇（街道）检查员" in h.last(cast.staff)
    chat = h.world.private_chat(cast.staff)
    await h.forge_tap(cast.staff, chat, 1, InspectionPick(inspection_id=inspection.id or 0).pack())
    h.world.user_sends_photo(cast.staff, chat)
    await h.flush()
    assert "请发送" not in " ".join(h.texts(cast.staff))
    async with h.runtime.sessions() as session:
        assert list(await session.exec(select(InspectionPhoto))) == []
