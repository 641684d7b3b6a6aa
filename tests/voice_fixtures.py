"""A village with its cast for the residents' voice tests, and a notice published through the services."""

from __future__ import annotations

from dataclasses import dataclass, field

from fake_telegram import FakeChat, FakeUser
from models import BoundChat, Notice, Person
from services.notices import drafts, review
from services.people import directory
from services.people.roles import Role
from tests.harness import Harness


@dataclass
class Cast:
    village_id: int
    other_village_id: int
    staff: FakeUser
    secretary: FakeUser
    supervisor: FakeUser
    inspector: FakeUser
    resident: FakeUser
    neighbour: FakeUser  # a second resident
    representative: FakeUser  # a representative who is not a resident
    outsider: FakeUser  # a resident of another village
    stranger: FakeUser  # nobody
    group: FakeChat
    extra: list[FakeUser] = field(default_factory=list)


async def person(h: Harness, user: FakeUser) -> Person:
    async with h.runtime.sessions() as session:
        found = await directory.get_or_create_person(session, user.id, user.full_name, user.username)
        await session.commit()
        return found


async def seed(h: Harness, *, population: int = 20, representatives: int = 10, extra_residents: int = 0,
               profile: str | None = None) -> Cast:
    world = h.world
    users = {name: world.new_user(label) for name, label in (
        ("staff", "王会计"), ("secretary", "张书记"), ("supervisor", "刘监委"), ("inspector", "赵镇干部"),
        ("resident", "李大爷"), ("neighbour", "周大妈"), ("representative", "孙代表"), ("outsider", "东风村民"),
        ("stranger", "路人"))}
    extra = [world.new_user(f"村民{i}") for i in range(extra_residents)]
    for user in [*users.values(), *extra]:
        world.private_chat(user).started = True  # each has started the bot, so it may write to them
    group = world.new_group("兴隆村村民群", members=[users["resident"], users["neighbour"]], supergroup=True)
    world.add_bot_to_group(group, admin=True, can_pin=True)
    world.take_updates()
    roles = {"staff": Role.STAFF, "secretary": Role.SECRETARY, "supervisor": Role.SUPERVISOR,
             "resident": Role.RESIDENT, "neighbour": Role.RESIDENT, "representative": Role.REPRESENTATIVE}
    async with h.runtime.sessions() as session:
        village = await directory.create_village(session, "hongqi", "xinglong", "兴隆村", population=population,
                                                 representatives=representatives)
        village.review_chain = ["secretary"]
        village.profile = profile  # None: the deployment's (jiangyuan in the tests)
        session.add(village)
        other = await directory.create_village(session, "hongqi", "dongfeng", "东风村", population=20)
        for name, role in roles.items():
            p = await directory.get_or_create_person(session, users[name].id, users[name].full_name, None)
            await directory.grant_role(session, p.id or 0, role, village_id=village.id)
        for user in extra:
            p = await directory.get_or_create_person(session, user.id, user.full_name, None)
            await directory.grant_role(session, p.id or 0, Role.RESIDENT, village_id=village.id)
        p = await directory.get_or_create_person(session, users["outsider"].id, "东风村民", None)
        await directory.grant_role(session, p.id or 0, Role.RESIDENT, village_id=other.id)
        p = await directory.get_or_create_person(session, users["inspector"].id, "赵镇干部", None)
        await directory.grant_role(session, p.id or 0, Role.INSPECTOR, township_id=village.township_id)
        session.add(BoundChat(chat_id=group.id, title=group.title or "", purpose="residents",
                              village_id=village.id, can_pin=True))
        await session.commit()
        village_id, other_id = village.id or 0, other.id or 0
    return Cast(village_id, other_id, users["staff"], users["secretary"], users["supervisor"], users["inspector"],
                users["resident"], users["neighbour"], users["representative"], users["outsider"],
                users["stranger"], group, extra)


async def publish(h: Harness, cast: Cast, title: str = "2026年第一季度财务收支", *, obligation_id: int | None = None,
                  item_id: str | None = None, attachment: str | None = None) -> int:
    """A notice drafted by the staff and approved by the secretary (the village's one-stage chain)."""
    staff, secretary = await person(h, cast.staff), await person(h, cast.secretary)
    now, policy = h.runtime.clock.now(), h.runtime.policy
    async with h.runtime.sessions() as session:
        notice = await drafts.create_draft(session, staff, cast.village_id, item_id, None, now,
                                            obligation_id=obligation_id)
        await drafts.set_title(session, staff, notice.id or 0, title, now)
        await drafts.set_body(session, staff, notice.id or 0, "村道维修支出 12500 元。", now)
        if attachment:
            await drafts.add_attachment(session, staff, notice.id or 0, "photo", attachment, None, now)
        await review.submit(session, policy, staff, notice.id or 0, now)
        await review.decide(session, policy, secretary, notice.id or 0, notice.version, 0, "approve", None, now)
        await session.commit()
        notice_id = notice.id or 0
    await h.flush()
    return notice_id


async def notice_state(h: Harness, notice_id: int) -> str:
    async with h.runtime.sessions() as session:
        notice = await session.get(Notice, notice_id)
        assert notice is not None
        return notice.state
