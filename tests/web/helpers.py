"""The board in-process: the production web application (web.app) on the test's runtime, reached over HTTP
with aiohttp's test client; notices published through the bot (tests/harness.py), as people would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy
from sqlmodel import col, select

from bot.process.pages import file_fetcher, web_deps
from models import Notice
from tests.harness import Harness
from tests.notice_fixtures import Cast
from tests.notices.test_notices_bot import draft_notice
from web.app import build_web_app
from web.deps import WebDeps


@asynccontextmanager
async def board_client(h: Harness, **changes: object) -> AsyncIterator[tuple[TestClient, WebDeps]]:
    deps = replace(web_deps(h.runtime, None), fetch_file=file_fetcher(h.bot), **changes)  # type: ignore[arg-type]
    async with TestClient(TestServer(build_web_app(deps))) as client:
        yield client, deps


async def publish(h: Harness, cast: Cast, **kw: str) -> Notice:
    await draft_notice(h, cast, **kw)
    await h.tap(cast.staff, "提交审核")
    if "个人信息检查" in h.last(cast.staff):  # the privacy screen found a number: the clerk masks it
        await h.tap(cast.staff, "全部打码")
        await h.tap(cast.staff, "提交审核")
    await h.tap(cast.secretary, "同意")
    await h.tap(cast.supervisor, "同意")
    return await newest(h)


async def newest(h: Harness) -> Notice:
    async with h.runtime.sessions() as session:
        return (await session.exec(select(Notice).order_by(col(Notice.id).desc()))).first()  # type: ignore[return-value]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


async def get(client: TestClient, path: str, **kw: Any) -> Answer:
    """A page, read at once (the next request on the connection must not find a body unread)."""
    async with client.get(path, **kw) as response:
        return Answer(response.status, response.headers, await response.read())


async def post(client: TestClient, path: str, **kw: Any) -> Answer:
    async with client.post(path, **kw) as response:
        return Answer(response.status, response.headers, await response.read())
