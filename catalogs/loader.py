"""Reading one YAML file into a validated model, turning every failure into a CatalogError that names
the file, the item (or rule) and the field."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from catalogs.errors import CatalogError

Model = TypeVar("Model", bound=BaseModel)

# libyaml's parser where PyYAML was built with it (its wheels are): about ten times faster than the pure-Python
# one, which cost every start-up (and every test's runtime) about a second of CPU for the catalogs and locales.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(source: str | IO[str]) -> Any:
    """yaml.safe_load, through libyaml when available."""
    return yaml.load(source, Loader=_SAFE_LOADER)


def display(path: Path) -> str:
    """The path as an operator would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise CatalogError(f"{display(path)}: cannot read: {error}") from error
    if not isinstance(data, dict):
        raise CatalogError(f"{display(path)}: top level must be a mapping, got {type(data).__name__}")
    return data


def load_model(path: Path, model: type[Model]) -> Model:
    data = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise CatalogError(f"{display(path)}: {describe(error.errors()[0], data)}") from error


def describe(error: ErrorDetails, data: dict[str, Any]) -> str:
    message = _message(error)
    if message.startswith("item "):  # a cross-item check already located itself
        return message
    where = _where(tuple(error["loc"]), data)
    return f"{where}: {message}" if where else message


def _message(error: ErrorDetails) -> str:
    ctx = error.get("ctx") or {}
    if error["type"] in ("enum", "literal_error"):
        return f"{error['input']!r} is not one of {ctx.get('expected')}"
    if error["type"] == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return error["msg"]


def _where(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """'item sw.3: cadence' from ('classes', 1, 'items', 2, 'cadence'), using the raw data for codes."""
    parts: list[str] = []
    index = 0
    while index < len(loc):
        key = loc[index]
        nxt = loc[index + 1] if index + 1 < len(loc) else None
        if key in ("classes", "items", "procedures", "steps") and isinstance(nxt, int):
            if key == "items" and parts and parts[-1].startswith("class "):
                parts.pop()  # 'item sw.3' already says which class
            parts.append(_label(key, data, loc[: index + 2]))
            index += 2
            continue
        parts.append(str(key))
        index += 1
    return _join(parts)


def _label(key: str, data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    node = _dig(data, loc)
    if key == "items":
        klass = _dig(data, loc[:-2])
        return f"item {klass.get('code', '?')}.{node.get('number', f'#{loc[-1] + 1}')}"
    singular = {"classes": "class", "procedures": "procedure", "steps": "step"}[key]
    return f"{singular} {node.get('code', f'#{loc[-1] + 1}')}"


def _dig(data: dict[str, Any], loc: tuple[Any, ...]) -> dict[str, Any]:
    node: Any = data
    for step in loc:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


def _join(parts: list[str]) -> str:
    """Keep located entities ('item sw.3') as their own segments, dot-join plain field paths."""
    segments: list[str] = []
    for part in parts:
        if " " in part or not segments or " " in segments[-1]:
            segments.append(part)
        else:
            segments[-1] = f"{segments[-1]}.{part}"
    return ": ".join(segments)
