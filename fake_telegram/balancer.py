"""A load balancer in miniature (what nginx does in docs/deploy/nginx-cunwu.conf), for tests and benches
that run several `cunwu webhook` instances behind one webhook URL.

Round robin. An upstream that refuses the connection is skipped for `fail_timeout` seconds and the request
goes to the next one (nothing was sent, so that is safe; nginx does the same for a connect error). A
request cut off after it was sent is answered 502 and NOT tried elsewhere: Telegram sends the update
again, which is the path the tests need to exercise.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

FORWARDED_HEADERS = ("content-type", "x-telegram-bot-api-secret-token")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Forward:
    update_id: int
    port: int
    outcome: str  # "ok" (2xx), "status" (another answer), "cut" (connection lost after sending)


@dataclass
class Balancer:
    ports: list[int]
    path: str = "/telegram"
    fail_timeout: float = 5.0
    log: list[Forward] = field(default_factory=list)
    in_flight: Counter[int] = field(default_factory=Counter)
    _down_until: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.ports)

    async def start(self) -> str:
        """Listen on a free port; returns the webhook URL to give Telegram."""
        self.client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                            timeout=aiohttp.ClientTimeout(total=120))
        app = web.Application()
        app.router.add_post(self.path, self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}{self.path}"

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.client.close()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED_HEADERS}
        update_id = int(json.loads(body)["update_id"])
        for _ in self.ports:
            port = self._next()
            try:
                return await self._forward(port, update_id, body, headers)
            except aiohttp.ClientConnectorError:
                self._down_until[port] = asyncio.get_running_loop().time() + self.fail_timeout
        return web.Response(status=502)

    def handled_on(self, update_id: int) -> int:
        """The port that confirmed the update."""
        return next(f.port for f in self.log if f.update_id == update_id and f.outcome == "ok")

    def _next(self) -> int:
        now = asyncio.get_running_loop().time()
        for _ in self.ports:
            port = next(self._turn)
            if self._down_until.get(port, 0) <= now:
                return port
        return next(self._turn)

    async def _forward(self, port: int, update_id: int, body: bytes, headers: dict[str, str]) -> web.Response:
        self.in_flight[port] += 1
        try:
            async with self.client.post(f"http://127.0.0.1:{port}{self.path}", data=body, headers=headers) as answer:
                payload = await answer.read()
                self.log.append(Forward(update_id, port, "ok" if answer.status < 300 else "status"))
                return web.Response(status=answer.status, body=payload, content_type=answer.content_type)
        except aiohttp.ClientConnectorError:
            raise
        except aiohttp.ClientError:
            self.log.append(Forward(update_id, port, "cut"))
            self._down_until[port] = asyncio.get_running_loop().time() + self.fail_timeout
            return web.Response(status=502)
        finally:
            self.in_flight[port] -= 1
