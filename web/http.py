"""HTTP manners shared by every page: conditional requests (ETag, Last-Modified), per-address rate limits,
the client's address behind a trusted proxy, and headers that keep pages out of search engines or frames."""

from __future__ import annotations

import hashlib
import ipaddress
from collections import OrderedDict
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web
from aiolimiter import AsyncLimiter

PAGE_COST, PDF_COST = 1, 10  # a PDF costs a second of CPU: it counts as ten pages


def etag_of(*parts: object) -> str:
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def not_modified(request: web.Request, etag: str, changed_at: datetime) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since when both are sent."""
    if request.headers.get("If-None-Match"):
        return etag in [tag.strip().removeprefix("W/") for tag in request.headers["If-None-Match"].split(",")]
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return changed_at.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def validators(response: web.StreamResponse, etag: str, changed_at: datetime, max_age: int = 60) -> None:
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = format_datetime(changed_at.astimezone(UTC), usegmt=True)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"


def conditional(request: web.Request, etag: str, changed_at: datetime, max_age: int = 60) -> web.Response | None:
    """A 304 when the client's copy is current; None when the page must be rendered."""
    if not not_modified(request, etag, changed_at):
        return None
    response = web.Response(status=304)
    validators(response, etag, changed_at, max_age)
    return response


def client_address(request: web.Request, trusted: frozenset[str]) -> str:
    """The peer, or behind a trusted proxy (nginx on the same machine) the nearest untrusted address in
    X-Forwarded-For: a client cannot choose its own address by sending the header itself."""
    peer = request.remote or ""
    if peer not in trusted:
        return peer
    for hop in reversed([h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer
        if hop not in trusted:
            return hop
    return peer


class RateLimits:
    """A leaky bucket per address (aiolimiter), `per_minute` requests with a burst of a fifth of that.
    The table forgets the least recently seen addresses beyond `keep`, so a flood of addresses cannot
    grow it without bound."""

    def __init__(self, per_minute: int, keep: int = 10_000) -> None:
        self.per_minute, self.keep = per_minute, keep
        self.burst = max(PDF_COST, per_minute // 5)
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()

    async def take(self, address: str, cost: int = PAGE_COST) -> bool:
        """True when the address may have this request now; it is then counted."""
        if self.per_minute <= 0:
            return True
        bucket = self._buckets.pop(address, None) or AsyncLimiter(self.burst, self.burst * 60 / self.per_minute)
        self._buckets[address] = bucket
        while len(self._buckets) > self.keep:
            self._buckets.popitem(last=False)
        if not bucket.has_capacity(cost):
            return False
        await bucket.acquire(cost)  # has capacity: returns at once
        return True

    def retry_after(self) -> int:
        return max(1, round(60 / self.per_minute * PDF_COST)) if self.per_minute else 0
