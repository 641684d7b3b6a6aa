"""A village with a whole cast, imported the way a township would (directory file), for notice tests."""

from __future__ import annotations

from dataclasses import dataclass

from bot.process.runtime import Runtime
from fake_telegram import FakeChat, FakeTelegram, FakeUser
from services.people.directory_io import import_file, parse

DIRECTORY = """
township: {{code: hongqi, name: 红旗镇, filing_chat_id: {filing}, inspectors: [{inspector}]}}
villages:
  - code: xinglong
    name: 兴隆村
    population: 100
    representatives: 10
    review_chain: [secretary, supervisor]
    groups: [{groups}]
    roles:
      staff: [{staff}]
      secretary: [{secretary}]
      supervisor: [{supervisor}, {supervisor2}]
      resident: [{resident}]
  - code: dongfeng
    name: 东风村
    roles:
      staff: [{rival}]
      secretary: [{rival_secretary}]
"""


@dataclass
class Cast:
    staff: FakeUser
    secretary: FakeUser
    supervisor: FakeUser
    supervisor2: FakeUser
    inspector: FakeUser
    resident: FakeUser
    rival: FakeUser
    rival_secretary: FakeUser
    groups: list[FakeChat]
    filing: FakeChat


async def seed_village(runtime: Runtime, world: FakeTelegram, groups: int = 3) -> Cast:
    people = {name: world.new_user(label) for name, label in (
        ("staff", "王会计"), ("secretary", "张书记"), ("supervisor", "刘监委"), ("supervisor2", "陈监委"),
        ("inspector", "赵镇干部"), ("resident", "李大爷"), ("rival", "东风会计"), ("rival_secretary", "东风书记"))}
    chats = [world.new_group(f"兴隆村村民群{i + 1}", members=[people["resident"]], supergroup=True)
             for i in range(groups)]
    filing = world.new_group("红旗镇备案群", members=[people["inspector"]], supergroup=True)
    text = DIRECTORY.format(filing=filing.id, groups=", ".join(str(c.id) for c in chats),
                            **{name: user.id for name, user in people.items()})
    async with runtime.sessions() as session:
        await import_file(session, parse(text))
        await session.commit()
    for chat in [*chats, filing]:  # after the import, so the bot learns each group's title and rights
        world.add_bot_to_group(chat, admin=True, can_pin=True)
    for user in people.values():  # Telegram bots can only write to people who wrote first
        world.user_sends(user, world.private_chat(user), "/start")
    return Cast(groups=chats, filing=filing, **people)
