"""All catalogs and profiles of a deployment, loaded all-or-nothing from the package and extra dirs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from catalogs.catalog import Catalog, Item
from catalogs.errors import CatalogError
from catalogs.loader import display, load_model
from catalogs.profile import Profile
from catalogs.vocabulary import Role

M = TypeVar("M", Catalog, Profile)

PACKAGE_DIR = Path(__file__).parent
# Catalog files live in items/, not data/: the repository's .gitignore ignores every data/ directory.
CATALOG_SUBDIR = "items"
PROFILE_SUBDIR = "profiles"


@dataclass(frozen=True)
class Registry:
    catalogs: Mapping[str, Catalog]
    profiles: Mapping[str, Profile]

    def catalog(self, code: str) -> Catalog:
        if code not in self.catalogs:
            raise CatalogError(f"unknown catalog {code!r}; known: {sorted(self.catalogs)}")
        return self.catalogs[code]

    def profile(self, name: str) -> Profile:
        if name not in self.profiles:
            raise CatalogError(f"unknown profile {name!r}; known: {sorted(self.profiles)}")
        return self.profiles[name]

    def item(self, full_id: str) -> Item:
        """'jyv:sw.20' -> the item."""
        code, _, item_code = full_id.partition(":")
        found = [item for item in self.catalog(code).items() if item.code == item_code]
        if not found:
            raise CatalogError(f"unknown item {full_id!r} in catalog {code!r}")
        return found[0]

    def items_with_role(self, role: Role | str) -> list[Item]:
        return [item for catalog in self.catalogs.values() for item in catalog.with_role(role)]


def load_registry(extra_dirs: Iterable[Path] = ()) -> Registry:
    """The package's catalogs and profiles plus a deployment's own.

    Each extra dir is laid out like the package: `items/*.yaml` (catalogs) and `profiles/*.yaml`.
    Any bad file, duplicate code or dangling profile reference fails the whole load.
    """
    roots = [PACKAGE_DIR, *(Path(d) for d in extra_dirs)]
    for root in roots[1:]:
        _check_extra_dir(root)
    catalogs = _load_all(roots, CATALOG_SUBDIR, Catalog, lambda c: c.code)
    profiles = _load_all(roots, PROFILE_SUBDIR, Profile, lambda p: p.name)
    _check_profile_refs(catalogs, profiles)
    return Registry(
        MappingProxyType({code: model for code, (model, _) in catalogs.items()}),
        MappingProxyType({name: model for name, (model, _) in profiles.items()}),
    )


def _check_extra_dir(root: Path) -> None:
    if not root.is_dir():
        raise CatalogError(f"{display(root)}: not a directory")
    if not (root / CATALOG_SUBDIR).is_dir() and not (root / PROFILE_SUBDIR).is_dir():
        raise CatalogError(f"{display(root)}: expected an {CATALOG_SUBDIR}/ or {PROFILE_SUBDIR}/ subdirectory")


def _load_all(roots: list[Path], subdir: str, model: type[M], key_of: Callable[[M], str]) -> dict[str, tuple[M, Path]]:
    loaded: dict[str, tuple[M, Path]] = {}
    for path in _yaml_files(roots, subdir):
        value = load_model(path, model)
        key = key_of(value)
        if key in loaded:
            raise CatalogError(f"{display(path)}: code {key!r} already defined in {display(loaded[key][1])}")
        loaded[key] = (value, path)
    return loaded


def _yaml_files(roots: list[Path], subdir: str) -> list[Path]:
    return [path for root in roots for path in sorted((root / subdir).glob("*.y*ml"))]


def _check_profile_refs(catalogs: dict[str, tuple[Catalog, Path]], profiles: dict[str, tuple[Profile, Path]]) -> None:
    for catalog, path in catalogs.values():
        if catalog.profile is not None and catalog.profile not in profiles:
            raise CatalogError(
                f"{display(path)}: profile: unknown profile {catalog.profile!r}; known: {sorted(profiles)}"
            )
