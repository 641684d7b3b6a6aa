"""nag claims per kind: a village's periodic nags of one kind and day are one nag log row, its count saying
how many (services/deadlines/nags.py); every existing row stands for one nag

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('nag_log', sa.Column('count', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    # a row of several nags becomes a row of one: the others go to the tally, so the count of nags sent holds
    op.execute("INSERT INTO nag_tally (day, kind, count) SELECT day, kind, sum(count - 1) FROM nag_log "
               "WHERE count > 1 GROUP BY day, kind "
               "ON CONFLICT (day, kind) DO UPDATE SET count = nag_tally.count + excluded.count")
    op.drop_column('nag_log', 'count')  # ALTER TABLE .. DROP COLUMN (SQLite 3.35+): the table stays WITHOUT ROWID
