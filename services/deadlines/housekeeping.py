"""What the hourly and weekly jobs do besides nagging: the posting-period unpin sweep and the weekly
township reports to the filing groups. Plain services: the scheduler, the CLI and tests call them."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from catalogs import Cadence, Period
from models import BoundChat, OutboxMessage, Township, Village
from services.notices import publication
from services.outbox import queue
from services.policy import Policy
from services.township import ranking
from services.township.views import ranking_view

WEEKLY_SHOWN = 8  # villages named in the caption (Telegram: 1,024 characters)
DESK_BUTTONS = 5  # villages with urge and rectify buttons under it


async def village_todays(session: AsyncSession, policy: Policy, now: datetime) -> dict[int, date]:
    rows = await session.exec(select(Village))
    return {v.id or 0: policy.today(v, now) for v in rows}


async def unpin_due(session: AsyncSession, policy: Policy, now: datetime) -> int:
    """T-KEEP: postings whose minimum posting period has passed get an "unpin" outbox row, once."""
    due = await publication.postings_to_unpin(session, await village_todays(session, policy, now))
    if not due:
        return 0
    # Once per posting period: a correction pins its posting again for a period of its own (a new topic).
    topics = {f"unpin:{p.id}:{p.pin_until}" for p in due}
    queued = set(await session.exec(select(OutboxMessage.topic).where(col(OutboxMessage.topic).in_(sorted(topics)))))
    count = 0
    for posting in due:
        topic = f"unpin:{posting.id}:{posting.pin_until}"
        if topic in queued or not posting.message_ids:
            continue
        queue(session, posting.chat_id, "", {}, action="unpin", target_message_id=posting.message_ids[0],
              posting_id=posting.id, topic=topic)
        count += 1
    return count


async def queue_weekly(session: AsyncSession, policy: Policy, now: datetime) -> int:
    """Each township's filing group gets its compliance report: the chart as a photo, the villages that need
    action (worst first) and what they owe as caption, with urge and rectify buttons for the worst (the
    delivery worker draws the chart when it sends, so the outbox row stays small)."""
    quarter = str(Period.containing(Cadence.QUARTERLY, policy.today(None, now)))
    chats = await session.exec(select(BoundChat, Township).join(Township, col(Township.id) == BoundChat.township_id)
                               .where(BoundChat.purpose == "filing", BoundChat.active == True))  # noqa: E712
    count = 0
    for chat, township in chats:
        found = await ranking.rank(session, policy, [township], now)
        view = ranking_view(found, policy.today(None, now), shown=WEEKLY_SHOWN)
        needing = [[v.village_id, v.name] for v in found.needing_action[:DESK_BUTTONS]]
        queue(session, chat.chat_id, "report_caption", {**view, "quarter": quarter, "township_id": township.id},
              action="photo", topic=f"report:{township.id}:{now.date().isoformat()}",
              keyboard={"name": "desk", "villages": needing} if needing else None)
        count += 1
    return count
