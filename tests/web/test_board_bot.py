"""The board in Telegram, through the real Dispatcher: the link on every group post, /board, the Mini App and
menu buttons, the poster buttons on the author's "published" message and the posting proof."""

from __future__ import annotations

import pytest
import yaml
from sqlmodel import select

from bot.ui.commands import register_menu_button
from models import PostingProof
from services.people.directory_io import export_township, import_file, parse
from tests.harness import Harness
from tests.notice_fixtures import Cast, seed_village
from tests.web.helpers import board_client, get, publish

BASE = "https://board.example.org"


@pytest.fixture
async def cast(harness: Harness) -> Cast:
    cast = await seed_village(harness.runtime, harness.world)
    await harness.flush()
    return cast


def _urls(message: object) -> list[str]:
    data = getattr(message, "data", {})
    return [b.get("url") or b.get("web_app", {}).get("url", "")
            for row in data.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def test_every_group_post_links_to_its_page_when_the_board_has_an_address(harness: Harness,
                                                                                  cast: Cast) -> None:
    h = harness
    first = await publish(h, cast, title="没有网址时发布的")
    assert not any("/v/" in url for url in _urls(h.world.bot_messages(cast.groups[0])[-1]))
    h.runtime.settings.public_base_url = BASE
    second = await publish(h, cast, title="有网址时发布的")
    for chat in [*cast.groups, cast.filing]:
        post = h.world.bot_messages(chat)[-1]
        assert second.title in post.text and f"{BASE}/v/xinglong/n/{second.id}" in _urls(post), chat.title
    assert first.id != second.id


async def test_board_command_in_private_and_in_a_group(harness: Harness, cast: Cast) -> None:
    h = harness
    await h.say(cast.resident, "/board")
    assert "还没有配置公开栏网址" in h.last(cast.resident)
    h.runtime.settings.public_base_url = "http://127.0.0.1:8081"
    await h.say(cast.resident, "/board")
    private = h.world.bot_messages(h.world.private_chat(cast.resident))[-1]
    assert "本村公开栏" in private.text and _urls(private) == ["http://127.0.0.1:8081/v/xinglong"]  # http: no app
    h.runtime.settings.public_base_url = BASE
    await h.say(cast.staff, "/board")
    buttons = h.world.bot_messages(h.world.private_chat(cast.staff))[-1].data["reply_markup"]["inline_keyboard"]
    assert buttons[0][0]["url"] == f"{BASE}/v/xinglong" and buttons[0][1]["web_app"]["url"] == f"{BASE}/app?v=xinglong"
    await h.say(cast.resident, "/board", cast.groups[0])
    group = h.world.bot_messages(cast.groups[0])[-1]
    assert "兴隆村 的公开栏" in group.text and _urls(group) == [f"{BASE}/v/xinglong"]  # a group: no web_app button
    stranger = h.world.new_user("路人")
    await h.say(stranger, "/board")
    assert f"{BASE}/" in h.last(stranger) and "还不属于任何村" in h.last(stranger)


async def test_the_menu_button_opens_the_board_as_a_mini_app_over_https_only(harness: Harness) -> None:
    h = harness
    await register_menu_button(h.bot, h.runtime.texts, BASE)
    assert h.world.menu_buttons[None] == {"type": "web_app", "text": "公开栏", "web_app": {"url": f"{BASE}/app"}}
    await register_menu_button(h.bot, h.runtime.texts, "http://127.0.0.1:8081")
    assert h.world.menu_buttons[None] == {"type": "default"}


async def test_the_published_message_gives_the_poster_and_takes_the_posting_photo(harness: Harness,
                                                                                    cast: Cast) -> None:
    h = harness
    notice = await publish(h, cast)
    chat = h.world.private_chat(cast.staff)
    published = next(m for m in h.world.bot_messages(chat) if "审核通过并发布" in m.text)
    assert {"🖨 张贴版 A4（PDF）", "🖨 张贴版 A3（PDF）"} <= set(published.buttons)
    assert "拍一张照片回复本消息" in published.text
    for size in ("A4", "A3"):
        await h.tap(cast.staff, f"张贴版 {size}")
        document = h.world.bot_messages(chat)[-1]
        assert document.data["document"]["file_name"] == f"notice-{notice.id}-{size.lower()}.pdf"
        assert h.world.files[document.data["document"]["file_id"]].content.startswith(b"%PDF-")
        assert f"张贴版（{size}）" in document.text
    h.world.user_sends_photo(cast.staff, chat)  # not a reply: not a proof
    h.world.user_sends_photo(cast.staff, chat, reply_to=h.world.bot_messages(chat)[-1].message_id)  # the PDF's
    await h.flush()
    assert await _proofs(h) == []
    h.world.user_sends_photo(cast.staff, chat, reply_to=published.message_id)
    await h.flush()
    assert "已记录张贴凭证" in h.last(cast.staff) and "王会计" in h.last(cast.staff)
    proofs = await _proofs(h)
    assert [(p.notice_id, p.file_id) for p in proofs] == [(notice.id, h.world.messages_in(chat)[-2].data["photo"][-1]
                                                           ["file_id"])]
    async with board_client(h) as (client, _):
        page = await get(client, f"/v/xinglong/n/{notice.id}")
        photo = await get(client, f"/v/xinglong/n/{notice.id}/p/{proofs[0].id}")
        township = await get(client, "/t/hongqi")
    assert "已张贴于村公开栏" in page.text and "王会计" in page.text and photo.status == 200
    assert "已张贴 1 项" in township.text  # and the township sees it


async def _proofs(h: Harness) -> list[PostingProof]:
    async with h.runtime.sessions() as session:
        return list(await session.exec(select(PostingProof)))


async def test_no_poster_or_proof_once_retracted_and_only_for_staff(harness: Harness, cast: Cast) -> None:
    h = harness
    await publish(h, cast)
    chat = h.world.private_chat(cast.staff)
    published = next(m for m in h.world.bot_messages(chat) if "审核通过并发布" in m.text)
    await h.say(cast.staff, "/archive")
    await h.tap(cast.staff, "撤回")
    await h.say(cast.staff, "数字有误")
    await h.tap(cast.secretary, "撤回")
    h.world.user_taps(cast.staff, chat, published.message_id, published.callback_data().pop())
    await h.flush()
    assert "已不是现行的公开内容" in h.last_alert()
    h.world.user_sends_photo(cast.staff, chat, reply_to=published.message_id)
    await h.flush()
    assert "已不是现行的公开内容" in h.last(cast.staff) and await _proofs(h) == []


async def test_a_proof_photo_from_someone_who_is_no_longer_staff_is_refused(harness: Harness, cast: Cast) -> None:
    h = harness
    await publish(h, cast)
    chat = h.world.private_chat(cast.staff)
    published = next(m for m in h.world.bot_messages(chat) if "审核通过并发布" in m.text)
    async with h.runtime.sessions() as session:  # the township's directory file no longer names them
        data = yaml.safe_load(await export_township(session, "hongqi"))
        data["villages"][0]["roles"].pop("staff")
        await import_file(session, parse(yaml.safe_dump(data, allow_unicode=True)))
        await session.commit()
    h.world.user_sends_photo(cast.staff, chat, reply_to=published.message_id)
    await h.flush()
    assert "没有“村务公开人员”身份" in h.last(cast.staff) and await _proofs(h) == []
