"""Which catalog, profile and time zone apply to a village: the deployment's defaults plus the village's own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from catalogs import Catalog, CatalogError, Item, Profile, Registry
from models import Village

FALLBACK_CATALOG = {"village": "jyv", "community": "jyc"}


@dataclass(frozen=True)
class Policy:
    registry: Registry
    default_profile: str
    default_timezone: str
    # The locale strings (language -> key -> text, from bot/ui/locales), for the few words services write into
    # what they freeze for later (a notice's issuing unit, a finance table's total): text stays out of Python.
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def label(self, lang: str, key: str, **params: Any) -> str:
        return self.labels.get(lang, {}).get(key, key).format(**params)

    def issuing_unit(self, village: Village) -> str:
        """The committee printed on notices: the directory's name for it, else the usual one for its kind."""
        return village.committee_name or self.label(village.language, f"committee.{village.kind}", name=village.name)

    def profile_for(self, village: Village) -> Profile:
        return self.registry.profile(village.profile or self.default_profile)

    def catalog_for(self, village: Village) -> Catalog:
        if village.catalog:
            return self.registry.catalog(village.catalog)
        profile = village.profile or self.default_profile
        for catalog in self.registry.catalogs.values():
            if catalog.profile == profile and catalog.unit_kind == village.kind:
                return catalog
        return self.registry.catalog(FALLBACK_CATALOG.get(village.kind, "jyv"))

    def item(self, item_id: str | None) -> Item | None:
        if not item_id:
            return None
        try:
            return self.registry.item(item_id)
        except CatalogError:
            return None

    def tz(self, village: Village | None) -> ZoneInfo:
        """The village's zone; a village without one (or with an unknown one) uses the default."""
        return self.zone(village.timezone if village else None)

    def zone(self, name: str | None) -> ZoneInfo:
        """The zone of that name; none (or an unknown one) is the deployment's default."""
        for candidate in (name, self.default_timezone, "Asia/Shanghai"):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")

    def today(self, village: Village | None, now: datetime) -> date:
        return now.astimezone(self.tz(village)).date()

    def local(self, village: Village | None, when: datetime) -> datetime:
        return when.astimezone(self.tz(village))
