"""names on notices: a person's chosen name (printed on notices, archives and reports) is kept apart from the
Telegram nickname, which no longer overwrites it

Revision ID: 0013
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('person', sa.Column('name_chosen', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.execute("ALTER TABLE person DROP COLUMN name_chosen")  # SQLite 3.35+ and PostgreSQL, no table rebuild
