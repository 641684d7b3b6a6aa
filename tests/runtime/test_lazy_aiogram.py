"""bot/base/lazy_aiogram.py leaves aiogram's types unbuilt at import, and each one, once built, is the same model
aiogram would have built itself. Each side runs in a fresh interpreter (imports can't be undone)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import hashlib, json, sys
if sys.argv[1] == "lazy":
    import bot  # noqa: F401  (imports aiogram lazily)
import aiogram.types as types
from pydantic import BaseModel
models = [getattr(types, name) for name in types.__all__]
models = [m for m in models if isinstance(m, type) and issubclass(m, BaseModel)]
unbuilt = sum(not m.__pydantic_complete__ for m in models)
def fingerprint(model):
    # The JSON schema names every sub-model the same way, whichever build order inlined it; the few models
    # holding arbitrary classes (files) have none: their annotated fields, then.
    try:
        text = json.dumps(model.model_json_schema(), sort_keys=True)
    except Exception:
        text = repr(sorted((field, str(info.annotation)) for field, info in model.model_fields.items()))
    return hashlib.sha1(text.encode()).hexdigest()
schemas = {}
for model in models:
    model.model_rebuild()
    schemas[model.__name__] = fingerprint(model)
print(json.dumps({"unbuilt": unbuilt, "schemas": schemas}))
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


def test_every_type_builds_lazily_into_the_model_aiogram_builds() -> None:
    lazy, eager = _probes("lazy", "eager")
    assert eager["unbuilt"] == 0  # aiogram on its own builds every type at import
    schemas = eager["schemas"]
    assert isinstance(schemas, dict) and len(schemas) > 300
    assert lazy["unbuilt"] == len(schemas)  # with bot/ first, none is built until used
    assert lazy["schemas"] == schemas
