"""HTTP transport: an aiohttp server speaking the Bot API wire format around one FakeTelegram.

Works with aiogram's stock client: Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url))).
Also runs the webhook delivery task while a webhook is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from fake_telegram.people import Json, Upload
from fake_telegram.world import FakeTelegram, Webhook

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass
class WebhookAttempt:
    """One POST of an update to the webhook: `ok` when answered 2xx; `error` says why not."""

    update_id: int
    started: float
    ended: float | None = None
    status: int | None = None
    ok: bool = False
    error: str | None = None


class FakeBotAPIServer:
    def __init__(
        self,
        world: FakeTelegram,
        *,
        hold_seconds: float = 5.0,
        webhook_retry_delay: float = 0.2,
        webhook_timeout: float = 60.0,
    ) -> None:
        self.world = world
        self.hold_seconds = hold_seconds  # how long a "timeout" fault keeps the response open
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout  # Telegram gives a webhook about a minute to answer
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()
        self.webhook_attempts: list[WebhookAttempt] = []  # every POST to the webhook, for tests to inspect

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        # handler_cancellation: a client that gives up on a long poll must not keep the handler waiting.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.25, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"
        self._delivery = asyncio.create_task(self._deliver_forever())
        return self.base_url

    async def stop(self) -> None:
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
            self._delivery = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ Bot API routes

    async def _api(self, request: web.Request) -> web.Response:
        try:
            params, files = await _read_params(request)
        except ValueError:
            return _json(400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse JSON"})
        info = request.match_info
        reply = await self.world.call(info["token"], info["method"], params, files)
        if reply.timed_out:
            await asyncio.sleep(self.hold_seconds)  # the client's timeout fires first
        return _json(reply.status, reply.body)

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.world.token:
            return _json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        record = self.world.file_by_path(request.match_info["path"])
        if record is None:
            return _json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return web.Response(body=record.content, content_type=record.mime_type or "application/octet-stream")

    # ------------------------------------------------------------------ webhook delivery

    @property
    def webhook_in_flight(self) -> frozenset[int]:
        """Update ids being posted to the webhook right now."""
        return frozenset(self._in_flight)

    async def _deliver_forever(self) -> None:
        """Like Telegram: up to the webhook's max_connections updates in flight at once, the oldest waiting
        one first; an update that was not answered 2xx is sent again (after `webhook_retry_delay`), to
        whichever instance the load balancer picks, until one answers 2xx."""
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            try:
                while True:
                    hook, update = await self.world.next_webhook_update(self._in_flight)
                    self._in_flight.add(update["update_id"])
                    task = asyncio.create_task(self._deliver_once(http, hook, update))
                    self._deliveries.add(task)
                    task.add_done_callback(self._deliveries.discard)
            finally:
                for task in self._deliveries:
                    task.cancel()
                await asyncio.gather(*self._deliveries, return_exceptions=True)

    async def _deliver_once(self, http: aiohttp.ClientSession, hook: Webhook, update: Json) -> None:
        update_id = update["update_id"]
        try:
            if await self._deliver(http, hook, update):
                self.world.webhook_delivered(update_id)
            else:
                await asyncio.sleep(self.webhook_retry_delay)
        finally:
            self._in_flight.discard(update_id)
            self.world.webhook_slot_freed()

    async def _deliver(self, http: aiohttp.ClientSession, hook: Webhook, update: Json) -> bool:
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        attempt = WebhookAttempt(update["update_id"], asyncio.get_running_loop().time())
        self.webhook_attempts.append(attempt)
        try:
            async with http.post(hook.url, json=update, headers=headers, timeout=timeout) as response:
                attempt.status = response.status
                if 200 <= response.status < 300:
                    await self._run_webhook_answer(response)
                    attempt.ok = True
                    return True
                attempt.error = f"{response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as error:
            attempt.error = error.__class__.__name__
        finally:
            attempt.ended = asyncio.get_running_loop().time()
        self.world.webhook_failed(f"Wrong response from the webhook: {attempt.error}" if attempt.status
                                  else f"Connection failed: {attempt.error}")
        return False

    async def _run_webhook_answer(self, response: aiohttp.ClientResponse) -> None:
        """A bot may answer an update with one method call in the response body; Telegram executes it."""
        params, files = await _read_answer(response)
        method = params.pop("method", None)
        if method:
            await self.world.call(self.world.token, str(method), params, files)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Query string plus JSON, urlencoded or multipart body; raises ValueError on broken JSON."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        body = json.loads(await request.text() or "{}")
        params.update(body if isinstance(body, dict) else {})
    elif request.content_type in FORM_TYPES:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = Upload(value.filename or key, value.file.read())
            else:
                params[key] = value
    return params, files


async def _read_answer(response: aiohttp.ClientResponse) -> tuple[dict[str, Any], dict[str, Upload]]:
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    if response.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = await response.json()
            params.update(body if isinstance(body, dict) else {})
    elif response.content_type == "multipart/form-data":
        reader = aiohttp.MultipartReader.from_response(response)
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                files[part.name] = Upload(part.filename, bytes(await part.read()))
            else:
                params[part.name] = await part.text()
    return params, files


def _json(status: int, body: Json) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda data: json.dumps(data, ensure_ascii=False))
