"""Import aiogram without building all of its pydantic models up front.

aiogram declares its ~400 Telegram types with pydantic's `defer_build=True`, then undoes it at the end of
`aiogram/types/__init__.py` with a loop that calls `model_rebuild(_types_namespace=...)` on every type, so
that forward references (names each module imports only under TYPE_CHECKING) resolve. Building them all
costs ~80 MB of resident memory and seconds of start-up, for types this bot never receives (stickers,
payments, business accounts, giveaways...).

The patch applies while `aiogram/types/__init__.py` runs, and only then: `install()` (called by
`bot/__init__.py`) puts a finder first on `sys.meta_path` that does nothing until something imports
`aiogram.types`, then wraps that one module's loader. So importing `bot` imports no aiogram at all (the
commands that never talk to Telegram, `cunwu screen`, `calendar`, `obligations`, `admin ...`, never load it),
and whoever imports aiogram first, wherever, gets the lazy build. `import_aiogram()` imports it now.

While `aiogram.types` runs, `model_rebuild` is replaced, for that loop only, by a function that
puts the names its field annotations mention into each type's own module (where pydantic looks when it
finally builds the model) and builds nothing. A type is then built the first time it is used, as
`defer_build` intends; the methods aiogram builds at import build what they reference. If aiogram stops
calling `model_rebuild` this way, nothing is replaced and aiogram builds everything as before: slower,
never wrong.
tests/runtime/test_lazy_aiogram.py builds every type this way and compares it with aiogram's own build.

The ~230 API methods (`aiogram.methods`, SendMessage and the like) are pydantic models too, built as each class
is defined (they have no `defer_build`), and each build inlines every type its fields mention: another ~26 MB
and seconds of start-up for the few dozen methods the bot calls. Once `aiogram.methods.base` has run, its
`TelegramMethod` gets `defer_build=True`, which every method class then inherits: a method is built the first
time the bot calls it (the test compares these too).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
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


TYPES = "aiogram.types"
METHODS = "aiogram.methods.base"


class _LazyTypesLoader(importlib.abc.Loader):
    """aiogram.types' own loader, run with `model_rebuild` replaced."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        BaseModel.model_rebuild = classmethod(_resolve_later)  # type: ignore[method-assign,assignment]
        try:
            self.loader.exec_module(module)
        finally:
            BaseModel.model_rebuild = _REBUILD  # type: ignore[method-assign]


class _LazyMethodsLoader(_LazyTypesLoader):
    """aiogram.methods.base's own loader; then the methods defined after it are built when first used."""

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        method = getattr(module, "TelegramMethod", None)
        if isinstance(method, type) and issubclass(method, BaseModel):
            method.model_config["defer_build"] = True


class _LazyTypesFinder(importlib.abc.MetaPathFinder):
    """Finds nothing but aiogram.types and aiogram.methods.base, once each, with the ordinary path finder, and
    wraps their loaders."""

    def __init__(self) -> None:
        self.pending: set[str] = set()

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> ModuleSpec | None:
        if name not in self.pending:
            return None
        self.pending.discard(name)
        if not self.pending:
            uninstall()
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = (_LazyTypesLoader if name == TYPES else _LazyMethodsLoader)(spec.loader)
        return spec


_FINDER = _LazyTypesFinder()


def install() -> None:
    """From now on, the first import of aiogram (by anyone) builds its types lazily. Imports nothing."""
    _FINDER.pending = {name for name in (TYPES, METHODS) if name not in sys.modules}
    if _FINDER.pending and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)


def import_aiogram() -> None:
    """Import aiogram now, its types lazily if it was not imported yet."""
    install()
    import aiogram.types  # noqa: F401
