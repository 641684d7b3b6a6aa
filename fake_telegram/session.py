"""In-process transport: an aiogram session that hands requests straight to a FakeTelegram.

Requests are encoded exactly as AiohttpSession.build_form_data would (same prepare_value), and answers go
through BaseSession.check_response, so handlers see aiogram's real exception classes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

import bot as _bot  # noqa: F401  (aiogram with its types built lazily, as the bot imports it)
from fake_telegram.people import Upload
from fake_telegram.world import FakeTelegram

if TYPE_CHECKING:
    from aiogram import Bot


class FakeSession(BaseSession):
    def __init__(self, world: FakeTelegram, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.world = world

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (BaseSession API)
    ) -> TelegramType:
        params, files = self._wire_params(bot, method)
        uploads = {key: await _read_upload(bot, key, value) for key, value in files.items()}
        reply = await self.world.call(bot.token, method.__api_method__, params, uploads)
        if reply.timed_out:
            # The same error AiohttpSession raises when asyncio.TimeoutError hits the request.
            raise TelegramNetworkError(method=method, message="Request timeout error")
        response = self.check_response(
            bot=bot, method=method, status_code=reply.status, content=json.dumps(reply.body, ensure_ascii=False)
        )
        return cast(TelegramType, response.result)

    def _wire_params(self, bot: Bot, method: TelegramMethod[Any]) -> tuple[dict[str, str], dict[str, InputFile]]:
        """The form fields AiohttpSession.build_form_data would send (falsy prepared values are dropped there too)."""
        files: dict[str, InputFile] = {}
        params: dict[str, str] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if isinstance(prepared, Enum):  # aiohttp's FormData sends a str enum's value, not its repr
                prepared = prepared.value
            if prepared:
                params[key] = prepared
        return params, files

    async def stream_content(
        self,
        url: str,
        headers: Mapping[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 (BaseSession API)
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """Serve world files for bot.download(): the URL ends with the file_path."""
        record = next((r for r in self.world.files.values() if url.endswith("/" + r.file_path)), None)
        if record is None:
            raise TelegramNetworkError(method=None, message=f"file not found: {url}")  # type: ignore[arg-type]
        for start in range(0, max(len(record.content), 1), chunk_size):
            yield record.content[start : start + chunk_size]

    async def close(self) -> None:
        """Nothing to release."""


async def _read_upload(bot: Bot, key: str, value: InputFile) -> Upload:
    chunks = [chunk async for chunk in value.read(bot)]
    return Upload(filename=value.filename or key, content=b"".join(chunks))
