"""docs/security.md stays true: every kind of button the bot makes is in its table, and every test it names
exists. (Adding a CallbackData without a row, or renaming a cited test, fails here.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from aiogram.filters.callback_data import CallbackData

import handlers  # noqa: F401  (imports every keyboard module, so every CallbackData class is defined)

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
SHORTHAND = {"S": "tests/test_security.py"}


def _all_subclasses(cls: type[CallbackData]) -> set[type[CallbackData]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def _test_functions(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def _cited_tests() -> list[tuple[str, str]]:
    """(file, function) for `tests/x.py::name`, a following `::name` (same file) and `S::name`."""
    cited = []
    for line in DOC.splitlines():
        current = None
        for file, name in re.findall(r"(tests/[\w/]+\.py|\bS)?::(test_\w+)", line):
            current = SHORTHAND.get(file, file) or current
            assert current is not None, f"`::{name}` with no file before it: {line}"
            cited.append((current, name))
    return cited


def test_every_button_kind_is_reviewed() -> None:
    prefixes = {cls.__prefix__ for cls in _all_subclasses(CallbackData) if cls.__module__.startswith("bot.")}
    assert len(prefixes) > 20
    missing = sorted(p for p in prefixes if f"`{p}`" not in DOC)
    assert missing == [], f"docs/security.md has no row for the buttons {missing}"


def test_every_cited_test_exists() -> None:
    cited = _cited_tests()
    assert len(cited) > 30
    missing = [f"{file}::{name}" for file, name in cited
               if not (ROOT / file).exists() or name not in _test_functions(file)]
    assert missing == [], f"docs/security.md cites tests that do not exist: {missing}"
