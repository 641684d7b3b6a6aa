"""Names on notices (issue 12, point 4): asked once when an invite grants a role, changed with /name, carried by
the directory file; notices, archives and reports print the chosen name, never the Telegram nickname."""

from __future__ import annotations

from sqlmodel import select

from models import Person
from services.people.directory_io import export_township, import_file, parse
from tests.conftest import ADMIN_ID
from tests.directory.test_onboarding_bot import _invite_link
from tests.harness import Harness
from tests.notice_fixtures import seed_village
from tests.notices.test_notices_bot import draft_notice


async def _person(h: Harness, tg_user_id: int) -> Person:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Person).where(Person.tg_user_id == tg_user_id))).one()


async def test_an_invited_clerk_is_asked_once_and_notices_print_the_chosen_name(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    clerk = h.world.new_user("🌻小王")
    await h.open_link(clerk, await _invite_link(h, admin, "兴隆村", "村务公开人员"))
    asked = h.texts(clerk)[-2]  # then the home screen
    assert "请发送您的真实姓名" in asked and "🌻小王" in asked
    await h.say(clerk, "   ")  # whitespace: the question stays open
    await h.say(clerk, "😀😀")
    assert "需要包含文字" in h.last(clerk)
    await h.say(clerk, "王建国")
    assert "您的署名已设为：王建国" in h.last(clerk)
    person = await _person(h, clerk.id)
    assert person.name == "王建国" and person.name_chosen
    # a nickname change in Telegram does not undo it; the next invite does not ask again
    clerk.first_name = "小王同学"
    await h.say(clerk, "/help")
    assert (await _person(h, clerk.id)).name == "王建国"
    await h.open_link(clerk, await _invite_link(h, admin, "兴隆村", "党组织书记"))
    assert "请发送您的真实姓名" not in "\n".join(h.texts(clerk)[-3:])


async def test_keep_the_current_name_and_change_it_later(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    clerk = h.world.new_user("李四")
    await h.open_link(clerk, await _invite_link(h, admin, "兴隆村", "村务公开人员"))
    await h.tap(clerk, "就用“李四”")
    assert "您的署名已设为：李四" in h.last(clerk)
    await h.say(clerk, "/name " + "长" * 31)
    assert "最多 30 个字" in h.last(clerk)
    await h.say(clerk, "/name 李 四 平")
    assert (await _person(h, clerk.id)).name == "李 四 平"
    await h.say(clerk, "/name")
    await h.say(clerk, "/drafts")  # a command instead of a name leaves the question and runs
    assert "草稿" in h.last(clerk)
    await h.say(clerk, "李四平")
    assert (await _person(h, clerk.id)).name == "李 四 平"  # no longer taken as a name


async def test_the_directory_file_names_people_and_notices_print_them(harness: Harness) -> None:
    h = harness
    cast = await seed_village(h.runtime, h.world)
    await h.flush()
    names = f"names: {{{cast.secretary.id}: 张建华, {cast.supervisor.id}: 刘志强}}\n"
    text = (await _export(h)) + names
    async with h.runtime.sessions() as session:
        await import_file(session, parse(text))
        await session.commit()
    cast.secretary.first_name = "书记大人"
    await draft_notice(h, cast)
    await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    notice = h.texts(cast.groups[0])[-1]
    assert "张建华" in notice and "刘志强" in notice and "书记大人" not in notice
    await h.say(cast.resident, "/archive")
    exported = await _export(h)
    assert "张建华" in exported and "刘志强" in exported


async def _export(h: Harness) -> str:
    async with h.runtime.sessions() as session:
        return await export_township(session, "hongqi")
