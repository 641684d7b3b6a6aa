"""Disclosure catalogs and policy profiles as validated data, plus pure due-date functions.

Imports nothing from aiogram, SQLAlchemy or SQLModel: the bot, the reminders and the CLI all use it.
"""

from catalogs.catalog import Catalog, CatalogClass, Item, Names, Procedure, Step
from catalogs.errors import CatalogError
from catalogs.periods import Period
from catalogs.profile import Profile, RuleRef
from catalogs.registry import Registry, load_registry
from catalogs.vocabulary import PERIODIC, Cadence, Role

__all__ = [
    "PERIODIC",
    "Cadence",
    "Catalog",
    "CatalogClass",
    "CatalogError",
    "Item",
    "Names",
    "Period",
    "Procedure",
    "Profile",
    "Registry",
    "Role",
    "RuleRef",
    "Step",
    "load_registry",
]
