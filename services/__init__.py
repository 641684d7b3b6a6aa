"""Use cases and domain rules, with no Telegram import.

`Session` is the database session every service takes; handlers name it by this alias, so handlers/
import nothing from the database layer.
"""

from sqlmodel.ext.asyncio.session import AsyncSession as Session

__all__ = ["Session"]
