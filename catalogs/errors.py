"""The one exception the catalogs package raises for bad data or unknown names."""


class CatalogError(ValueError):
    """Bad catalog/profile data, or a lookup of a catalog, item or profile that does not exist.

    A ValueError so callers that only know "bad input" still catch it; the message always names
    the file (when there is one), the item or rule, and the field, so an operator can fix the YAML.
    """
