"""Signing in to the console: the bot hands an inspector a one-time link (/console); opening it and pressing
"sign in" turns it into a session (a cookie) with its own CSRF token. Links are single use, live minutes and
belong to the person they were made for; sessions live hours. Only SHA-256 digests of the secrets are
stored, so a copy of the database signs nobody in. A page asked for without a valid session, or a form
posted without the session's CSRF token, is refused."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from models import ConsoleToken, Person
from services.errors import DomainError, NotAllowed
from services.people import directory
from services.people.roles import Role
from services.township import access

LINK_LIFE = timedelta(minutes=10)
SESSION_LIFE = timedelta(hours=8)
APP_MAX_AGE = timedelta(hours=1)  # Mini App init data older than this signs nobody in (a replayed copy)
LINK, SESSION = "link", "session"


@dataclass(frozen=True)
class Signed:
    person: Person
    csrf: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def new_link(session: AsyncSession, person: Person, now: datetime, county: Collection[int] = ()) -> str:
    """The secret of a one-time sign-in link for an inspector or a county-level admin (anyone else is refused)."""
    await access.may_sign_in(session, person, county)
    secret = secrets.token_urlsafe(24)
    session.add(ConsoleToken(digest=digest(secret), kind=LINK, person_id=person.id or 0, expires_at=now + LINK_LIFE,
                             created_at=now))
    await session.exec(delete(ConsoleToken).where(col(ConsoleToken.expires_at) < now - timedelta(days=1)))
    return secret


async def redeem(session: AsyncSession, secret: str, now: datetime, county: Collection[int] = ()) -> str:
    """The link's secret -> a new session's secret; a forged, used or expired link is refused. The link is
    spent by one conditional UPDATE, so two tabs racing with the same link cannot both sign in."""
    if not secret or len(secret) > 100:
        raise DomainError("desk.link_refused")
    spent = await session.exec(update(ConsoleToken).where(
        col(ConsoleToken.digest) == digest(secret), col(ConsoleToken.kind) == LINK,
        col(ConsoleToken.used_at).is_(None), col(ConsoleToken.expires_at) > now).values(used_at=now)
        .returning(col(ConsoleToken.person_id)))
    person_id = spent.scalar_one_or_none()
    if person_id is None:
        raise DomainError("desk.link_refused")
    person = await session.get(Person, person_id)
    if person is None:
        raise DomainError("desk.link_refused")
    await access.may_sign_in(session, person, county)  # still an inspector (or a county-level admin)
    return _open_session(session, person_id, now)


async def from_web_app(session: AsyncSession, tg_user_id: int, now: datetime, county: Collection[int] = ()) -> str:
    """A session for the Telegram user whose Mini App init data the caller has verified (signature and age):
    only a person in the directory who inspects a township now (or a county-level admin); anyone else is
    refused like a stranger."""
    person = await directory.person_by_tg(session, tg_user_id)
    if person is None:
        raise NotAllowed("err.not_role", role=Role.INSPECTOR.value)
    await access.may_sign_in(session, person, county)
    return _open_session(session, person.id or 0, now)


def _open_session(session: AsyncSession, person_id: int, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(ConsoleToken(digest=digest(token), kind=SESSION, person_id=person_id, csrf=secrets.token_urlsafe(24),
                             expires_at=now + SESSION_LIFE, created_at=now))
    return token


async def signed_in(session: AsyncSession, token: str | None, now: datetime) -> Signed | None:
    if not token or len(token) > 100:
        return None
    row = await session.get(ConsoleToken, digest(token))
    if row is None or row.kind != SESSION or row.expires_at <= now:
        return None
    person = await session.get(Person, row.person_id)
    return Signed(person, row.csrf) if person is not None else None


def csrf_ok(signed: Signed, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(signed.csrf, sent or "")


async def sign_out(session: AsyncSession, token: str) -> None:
    await session.exec(delete(ConsoleToken).where(col(ConsoleToken.digest) == digest(token)))
