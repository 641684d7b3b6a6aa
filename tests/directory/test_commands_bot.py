"""/start and /help say what each person can do with the roles they hold, from the one command table
(bot/ui/commands.py) that the menu is also built from; admins invite every appointed role, inspectors too."""

from __future__ import annotations

import pytest
from aiogram.filters import Command, CommandStart
from sqlmodel import select

from bot.ui.commands import ADMIN, COMMANDS, register_commands
from bot.ui.texts import LANGUAGES, load_locale
from fake_telegram import FakeUser
from handlers import get_routers
from models import RoleGrant
from services.people import directory
from services.people.roles import Role
from tests.conftest import ADMIN_ID
from tests.directory.test_onboarding_bot import _invite_link, _onboard_staff
from tests.harness import Harness


def _handled_commands() -> set[str]:
    names: set[str] = set()
    for router in get_routers():
        for observer in (router.message,):
            for handler in observer.handlers:
                for flt in handler.filters or []:
                    if isinstance(flt.callback, CommandStart):
                        names.add("start")
                    elif isinstance(flt.callback, Command):
                        names |= {str(c) for c in flt.callback.commands}
    return names


def test_the_table_lists_exactly_the_commands_the_handlers_answer() -> None:
    assert {c.name for c in COMMANDS} == _handled_commands()


def test_every_command_and_role_has_its_texts() -> None:
    for lang in LANGUAGES:
        strings = load_locale(lang)
        for command in COMMANDS:
            assert f"cmd.{command.name}" in strings and f"help.{command.name}" in strings, (lang, command.name)
            assert 0 < len(strings[f"cmd.{command.name}"]) <= 256
        for role in Role:
            assert f"does.{role.value}" in strings, (lang, role)


def test_what_a_role_can_do_names_its_commands() -> None:
    """does.<role> (shown on /start) mentions the role's own private-chat commands, so the two cannot drift
    (/archive, which every village role has, is named only for residents and representatives)."""
    for lang in LANGUAGES:
        strings = load_locale(lang)
        for role in Role:
            own = [c.name for c in COMMANDS if role.value in c.audiences and "private" in c.chats
                   and (c.name != "archive" or role in (Role.RESIDENT, Role.REPRESENTATIVE))]
            for name in own:
                assert f"/{name}" in strings[f"does.{role.value}"], (lang, role, name)


async def _person_with(h: Harness, user: FakeUser, role: Role) -> None:
    """Setup only: roles come from invites and the directory file, both tested elsewhere."""
    async with h.runtime.sessions() as session:
        person = await directory.get_or_create_person(session, user.id, user.full_name, None)
        village = await directory.village_by_code(session, "xinglong")
        assert village is not None
        if role is Role.INSPECTOR:
            await directory.grant_role(session, person.id or 0, role, township_id=village.township_id)
        else:
            await directory.grant_role(session, person.id or 0, role, village_id=village.id)
        await session.commit()


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        (Role.RESIDENT, ["/archive", "/petition", "/join", "/lang"], ["/draft", "/review", "/report", "/newvillage"]),
        (Role.STAFF, ["/draft", "/drafts", "/pending", "/event", "/digest", "/questions", "/due", "/archive"],
         ["/review", "/report", "/petition", "/invite", "/bind"]),
        (Role.SECRETARY, ["/review", "/due", "/archive"], ["/draft", "/pending", "/questions"]),
        (Role.SUPERVISOR, ["/review", "/questions", "/due"], ["/draft", "/pending"]),
        (Role.INSPECTOR, ["/report"], ["/draft", "/review", "/archive"]),
    ],
)
async def test_help_lists_the_commands_of_the_roles_held(harness: Harness, role: Role, present: list[str],
                                                         absent: list[str]) -> None:
    h = harness
    await _onboard_staff(h)
    user = h.world.new_user("某人")
    await _person_with(h, user, role)
    await h.say(user, "/help")
    text = h.last(user)
    assert h.runtime.texts.plain("zh", f"role.{role.value}") in text
    for command in present:
        assert f"\n{command}" in text, (command, text)
    for command in absent:
        assert f"\n{command} " not in text and f"\n{command}\n" not in text, (command, text)


async def test_admin_help_and_start_take_the_invite_lifetime_from_the_settings(harness: Harness) -> None:
    h = harness
    h.runtime.settings.invite_ttl_days = 3
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/help")
    assert "/newvillage 乡镇代码 村代码 村名" in h.last(admin) and "3 天内有效" in h.last(admin)
    assert "7 天" not in h.last(admin)
    await h.say(admin, "/start")
    assert "3 天内有效" in h.last(admin)


async def test_start_says_what_each_role_held_can_do(harness: Harness) -> None:
    h = harness
    _, staff, _ = await _onboard_staff(h)
    await _person_with(h, staff, Role.SECRETARY)
    await h.say(staff, "/start")
    text = h.last(staff)
    assert "村务公开人员 · 兴隆村" in text and "党组织书记 · 兴隆村" in text
    assert "起草公开内容（/draft、/drafts）" in text and "审核公开内容（/review）" in text
    resident = h.world.new_user("李大爷")
    await h.say(resident, "/join xinglong")
    await h.say(resident, "/start")
    assert "村民 · 兴隆村（待确认）" in h.last(resident)
    assert "/petition" not in h.last(resident)  # not a resident until confirmed
    english = h.world.new_user("Alice", language_code="en")
    await _person_with(h, english, Role.RESIDENT)
    await h.say(english, "/start")
    assert "resident · 兴隆村" in h.last(english) and "petition for a disclosure (/petition)" in h.last(english)


async def test_help_in_a_group(harness: Harness) -> None:
    h = harness
    _, staff, group = await _onboard_staff(h)
    await h.say(staff, "/help", chat=group)
    text = h.last(group)
    assert "/bind" in text and "/unbind" in text and "/join" in text and "私聊" in text
    assert "/draft" not in text
    stranger = h.world.new_user("路人")
    group.members.append(stranger)
    await h.say(stranger, "/help", chat=group)
    assert "/join" in h.last(group) and "/bind" not in h.last(group)


async def test_menus_per_language_for_private_chats_groups_and_admins(harness: Harness) -> None:
    h = harness
    await register_commands(h.bot, h.runtime.texts, [ADMIN_ID])
    menus = {(scope, lang): [c["command"] for c in cmds] for (scope, lang), cmds in h.world.commands.items()}
    private, groups = '{"type": "all_private_chats"}', '{"type": "all_group_chats"}'
    admin = f'{{"chat_id": {ADMIN_ID}, "type": "chat"}}'
    for lang in ("", "en"):  # "": the default language's menu, for every other client language too
        assert menus[(private, lang)] == [c.name for c in COMMANDS if "private" in c.chats and c.audiences != (ADMIN,)]
        assert menus[(groups, lang)] == ["start", "help", "join", "board", "bind", "unbind"]
        assert {"newvillage", "invite", "draft"} <= set(menus[(admin, lang)])
    described = {lang: {c["description"] for c in h.world.commands[(private, lang)]} for lang in ("", "en")}
    assert "起草公开内容（工作人员）" in described[""] and "Draft a notice (staff)" in described["en"]


async def test_an_admin_invites_a_township_inspector(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    payload = await _invite_link(h, admin, "兴隆村", "镇（街道）检查员 · hongqi")
    assert "hongqi · 镇（街道）检查员" in h.last(admin)
    inspector = h.world.new_user("赵镇干部")
    await h.open_link(inspector, payload)
    assert "您已成为 hongqi 的 镇（街道）检查员" in h.texts(inspector)[0]
    async with h.runtime.sessions() as session:
        grant = (await session.exec(select(RoleGrant).where(RoleGrant.role == "inspector"))).one()
    assert grant.township_id is not None and grant.village_id is None
    filing = h.world.new_group("红旗镇备案群", members=[inspector])
    h.world.add_bot_to_group(filing, admin=True, can_pin=True)
    await h.flush()
    await h.say(inspector, "/bind filing", chat=filing)
    assert "hongqi" in h.last(filing) and "备案群" in h.last(filing)


@pytest.mark.parametrize("data", ["ir2:1:99", "ir2:1:-1", "ir1:1:inspector", "ir2:1:staff"])
async def test_forged_invite_buttons_are_refused(harness: Harness, data: str) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    await h.say(admin, "/invite xinglong")
    await h.forge_tap(admin, h.world.private_chat(admin), 1, data)
    assert "失效" in h.last_alert()
    async with h.runtime.sessions() as session:
        from models import Invite

        assert list(await session.exec(select(Invite))) == []


async def test_a_non_admin_tapping_an_invite_button_gets_nothing(harness: Harness) -> None:
    h = harness
    admin = h.world.new_user("管理员", user_id=ADMIN_ID)
    await h.say(admin, "/newvillage hongqi xinglong 兴隆村")
    await h.say(admin, "/invite xinglong")
    _, data = h.find_button(h.world.private_chat(admin), "村务公开人员")
    intruder = h.world.new_user("外人")
    await h.say(intruder, "/start")
    await h.forge_tap(intruder, h.world.private_chat(intruder), 1, data)
    assert "失效" in h.last_alert()
    assert "start=" not in "\n".join(h.texts(intruder))
