"""bot/base/lazy_aiogram.py leaves aiogram's types and API methods unbuilt at import, and each one, once built, is
the same model aiogram would have built itself. Each side runs in a fresh interpreter (imports can't be undone)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import hashlib, json, re, sys
if sys.argv[1] == "lazy":
    import bot  # noqa: F401  (imports aiogram lazily)
import aiogram.methods as methods
import aiogram.types as types
from pydantic import BaseModel
def models_of(module):
    found = [getattr(module, name) for name in module.__all__]
    return [m for m in found if isinstance(m, type) and issubclass(m, BaseModel)]
models = models_of(types)
unbuilt = sum(not m.__pydantic_complete__ for m in models)
calls = [m for m in models_of(methods) if issubclass(m, methods.TelegramMethod) and m is not methods.TelegramMethod]
unbuilt_calls = sum(not m.__pydantic_complete__ for m in calls)
def fingerprint(model):
    # Every field with its resolved annotation, alias, default and requiredness: a model built lazily with a
    # field left unresolved, or resolved to another class, differs here. (The full JSON schema of 300 models
    # cost a minute of CPU for the same verdict.)
    fields = sorted((name, str(info.annotation), info.alias, repr(info.default), info.is_required())
                    for name, info in model.model_fields.items())
    return hashlib.sha1(re.sub(r" at 0x[0-9a-f]+", "", repr(fields)).encode()).hexdigest()
schemas = {}
for model in [*models, *calls]:
    model.model_rebuild()
    assert model.__pydantic_complete__, model.__name__
    schemas[f"{model.__module__}.{model.__name__}"] = fingerprint(model)
# And the models behave alike: an update with a nested message, a reply markup and a callback validates and
# dumps to the same data.
sample = {"update_id": 7, "callback_query": {"id": "c1", "chat_instance": "i", "data": "x:1",
          "from": {"id": 5, "is_bot": False, "first_name": "李"},
          "message": {"message_id": 3, "date": 1700000000, "chat": {"id": -100, "type": "supergroup", "title": "群"},
                      "text": "公开", "entities": [{"type": "bold", "offset": 0, "length": 2}],
                      "reply_markup": {"inline_keyboard": [[{"text": "好", "callback_data": "x:1"}]]}}}}
sample_dump = types.Update.model_validate(sample).model_dump_json(exclude_none=True)
print(json.dumps({"unbuilt": unbuilt, "unbuilt_calls": unbuilt_calls, "calls": len(calls), "schemas": schemas,
                  "sample": sample_dump}))
"""


def _probes(*modes: str) -> list[dict[str, object]]:
    """Each mode in its own interpreter, all at once."""
    children = [subprocess.Popen([sys.executable, "-c", PROBE, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for mode in modes]
    results = []
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err[-3000:]
        results.append(json.loads(out))
    return results


def test_every_type_and_method_builds_lazily_into_the_model_aiogram_builds() -> None:
    lazy, eager = _probes("lazy", "eager")
    assert eager["unbuilt"] == eager["unbuilt_calls"] == 0  # aiogram on its own builds every one at import
    schemas = eager["schemas"]
    assert isinstance(schemas, dict) and len(schemas) > 450
    calls = eager["calls"]
    assert isinstance(calls, int) and calls > 150
    assert lazy["unbuilt"] == len(schemas) - calls  # with bot/ first, no type is built until used
    assert lazy["unbuilt_calls"] == calls  # nor any method
    assert lazy["schemas"] == schemas
    assert lazy["sample"] == eager["sample"] and "公开" in str(eager["sample"])
