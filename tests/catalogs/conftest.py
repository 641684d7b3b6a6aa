"""Fixtures for the catalogs package: the built-in registry, loaded once."""

from __future__ import annotations

import pytest

from catalogs import Registry, load_registry


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()
