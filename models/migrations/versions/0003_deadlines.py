"""deadlines: the nag scan's per-zone, per-day mark (cheap hourly re-runs)

Revision ID: 0003_deadlines
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0003_deadlines'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nag_scan',
    sa.Column('zone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('village_id_max', sa.Integer(), nullable=False),
    sa.Column('at', models.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('zone', 'day')
    )


def downgrade() -> None:
    op.drop_table('nag_scan')
