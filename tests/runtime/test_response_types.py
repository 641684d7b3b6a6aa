"""bot.base.response_types: the parsed answer's pydantic type outlives a garbage collection, so it is built once."""

from __future__ import annotations

import gc

from pydantic._internal._generics import _GENERIC_TYPES_CACHE

from tests.harness import Harness


def _response_types() -> set[str]:
    return {value.__name__ for value in list(_GENERIC_TYPES_CACHE.values())}


async def test_the_answer_type_survives_a_collection(harness: Harness) -> None:
    person = harness.world.new_user("李大爷")
    await harness.say(person, "/start")
    assert harness.last(person)  # the bot answered, through the session and its middlewares
    gc.collect()
    assert "Response[Message]" in _response_types()  # without KeepResponseTypes the collection frees it
