"""Test data builders for the catalogs tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def minimal_catalog(**overrides: Any) -> dict[str, Any]:
    """A valid one-class catalog a test can break in exactly one place."""
    catalog: dict[str, Any] = {
        "code": "tst",
        "names": {"zh": "测试目录", "en": "Test catalog"},
        "unit_kind": "village",
        "source": "test",
        "classes": [
            {
                "code": "sw",
                "number": 1,
                "names": {"zh": "事务类", "en": "Affairs"},
                "items": [
                    {"number": n, "zh": f"事项{n}", "en": f"Item {n}", "cadence": "quarterly", "source": "test"}
                    for n in (1, 2, 3)
                ],
            }
        ],
    }
    catalog.update(overrides)
    return catalog


def write_yaml(root: Path, subdir: str, name: str, data: Any) -> Path:
    path = root / subdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
