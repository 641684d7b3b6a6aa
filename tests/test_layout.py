"""The house stays navigable: no import cycle among the project's modules (function-local imports count),
no package folder with more than 15 modules side by side, and the production process never imports the
fake Telegram or the demo (development tools)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "catalogs", "demo", "fake_telegram", "handlers", "models", "reminders", "services", "web")
MAX_MODULES = 15


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imported(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Project modules `module` imports anywhere in its body. `from p import m` names the module p.m when
    there is one (as import-linter reads it), else p; `import a.b` names a.b."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
    return targets


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {module: _imported(module, path, known) for module, path in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_project_modules() -> None:
    graph = _graph()
    assert len(graph) > 100
    assert _cycles(graph) == []


def test_no_folder_holds_more_than_15_modules() -> None:
    crowded = {}
    for folder in [ROOT / p for p in PACKAGES] + [ROOT / "tests"]:
        for sub in [folder, *[d for d in folder.rglob("*") if d.is_dir()]]:
            if "__pycache__" in sub.parts or "migrations" in sub.parts:
                continue
            count = len([f for f in sub.glob("*.py") if f.name != "conftest.py"])
            if count > MAX_MODULES:
                crowded[str(sub.relative_to(ROOT))] = count
    assert crowded == {}


def _closure(graph: dict[str, set[str]], starts: list[str]) -> set[str]:
    seen, todo = set(), list(starts)
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    return seen


PRODUCTION = ["bot.process.app", "bot.process.webhook"]


def test_the_production_process_never_imports_the_fake_telegram_or_the_demo() -> None:
    reached = _closure(_graph(), PRODUCTION)
    assert "bot.process.wiring" in reached and "handlers" in reached
    assert sorted(m for m in reached if m.split(".")[0] in ("fake_telegram", "demo")) == []
    code = ("import sys, bot.process.app, bot.process.webhook; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fake_telegram', 'demo', 'tests')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def _names_in_docs(text: str) -> set[str]:
    """`bot/x/y.py`, `bot/x/`, `bot/x/y.Name` (a module and a name defined in it) quoted in a document."""
    named = set()
    for quoted in re.findall(r"`([^`\s]+)`", text):
        if re.match(r"(bot|services|handlers|models|catalogs|reminders|fake_telegram|demo|tests|web)/", quoted):
            if "<" not in quoted:  # a placeholder: `handlers/<feature>.py`
                named.add(quoted.split("{")[0].split("(")[0])
    return named


def _exists(named: str) -> bool:
    if (ROOT / named.rstrip("/")).exists():
        return True
    module, _, name = named.rpartition(".")
    path = ROOT / f"{module}.py"
    source = path.read_text(encoding="utf-8") if path.exists() else ""
    return bool(re.search(rf"^(class|def|async def) {name}\b|^{name}\b.*=", source, re.M))


def test_docs_architecture_names_only_paths_that_exist() -> None:
    """docs/architecture.md matches the code: every file, folder and module.name it quotes exists."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = _names_in_docs(text)
    assert len(named) > 20
    missing = sorted(n for n in named if not _exists(n) and not (n.startswith("web/") and not (ROOT / "web").exists()))
    assert missing == []
    for room in ("bot/base", "bot/cli", "bot/process", "bot/pipeline", "bot/ui", "bot/delivery"):
        assert f"`{room}/`" in text, f"docs/architecture.md does not describe {room}/"
