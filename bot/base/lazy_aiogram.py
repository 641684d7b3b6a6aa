"""Import aiogram without building all of its pydantic models up front.

aiogram declares its ~400 Telegram types with pydantic's `defer_build=True`, then undoes it at the end of
`aiogram/types/__init__.py` with a loop that calls `model_rebuild(_types_namespace=...)` on every type, so
that forward references (names each module imports only under TYPE_CHECKING) resolve. Building them all
costs ~80 MB of resident memory and seconds of start-up, for types this bot never receives (stickers,
payments, business accounts, giveaways...).

`import_aiogram()` runs that import with `model_rebuild` replaced, for that loop only, by a function that
puts the names its field annotations mention into each type's own module (where pydantic looks when it
finally builds the model) and builds nothing. A type is then built the first time it is used, as
`defer_build` intends; the methods aiogram builds at import build what they reference. If aiogram stops
calling `model_rebuild` this way, nothing is replaced and aiogram builds everything as before: slower,
never wrong.
tests/runtime/test_lazy_aiogram.py builds every type this way and compares it with aiogram's own build.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from pydantic import BaseModel

_REBUILD = BaseModel.__dict__["model_rebuild"]


def _resolve_later(cls: type[BaseModel], *, _types_namespace: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    if _types_namespace is None or not cls.model_config.get("defer_build"):
        return _REBUILD.__func__(cls, _types_namespace=_types_namespace, **kwargs)
    module = sys.modules[cls.__module__].__dict__
    for name in _annotation_names(cls) & _types_namespace.keys():
        module.setdefault(name, _types_namespace[name])
    return None


def _annotation_names(cls: type) -> set[str]:
    """Identifiers in the (string, `from __future__ import annotations`) field annotations of cls and its bases:
    only these need resolving, and copying the whole namespace into ~400 modules would cost ~5 MB."""
    names: set[str] = set()
    for klass in cls.__mro__:
        for annotation in getattr(klass, "__annotations__", {}).values():
            names.update(_IDENTIFIER.findall(annotation if isinstance(annotation, str) else repr(annotation)))
    return names


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def import_aiogram() -> None:
    if "aiogram.types" in sys.modules:
        return  # imported already (by whoever came first): nothing to save any more
    BaseModel.model_rebuild = classmethod(_resolve_later)  # type: ignore[method-assign,assignment]
    try:
        import aiogram.types  # noqa: F401
    finally:
        BaseModel.model_rebuild = _REBUILD  # type: ignore[method-assign]
