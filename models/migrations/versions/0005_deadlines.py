"""deadlines: the nag scan's per-zone, per-day mark (cheap hourly re-runs); nag_log keyed by its natural key

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0005'
down_revision = '0004'
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
    # nag_log: (village, key, kind, day) becomes the primary key and the only index (was: id, a unique
    # constraint and an index on village_id). Rebuilt and copied, which SQLite needs anyway.
    op.create_table('nag_log_new',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('obligation_key', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('village_id', 'obligation_key', 'kind', 'day'),
    sqlite_with_rowid=False,
    )
    op.execute('INSERT INTO nag_log_new (village_id, obligation_key, kind, day, sent_at) '
               'SELECT village_id, obligation_key, kind, day, sent_at FROM nag_log')
    op.drop_table('nag_log')
    op.rename_table('nag_log_new', 'nag_log')
    if op.get_bind().dialect.name == 'postgresql':  # keep the names PostgreSQL would give a fresh table
        op.execute('ALTER TABLE nag_log RENAME CONSTRAINT nag_log_new_pkey TO nag_log_pkey')
        op.execute('ALTER TABLE nag_log RENAME CONSTRAINT nag_log_new_village_id_fkey TO nag_log_village_id_fkey')


def downgrade() -> None:
    op.create_table('nag_log_old',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('obligation_key', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('village_id', 'obligation_key', 'kind', 'day')
    )
    op.execute('INSERT INTO nag_log_old (village_id, obligation_key, kind, day, sent_at) '
               'SELECT village_id, obligation_key, kind, day, sent_at FROM nag_log')
    op.drop_table('nag_log')
    op.rename_table('nag_log_old', 'nag_log')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE nag_log RENAME CONSTRAINT nag_log_old_pkey TO nag_log_pkey')
        op.execute('ALTER TABLE nag_log RENAME CONSTRAINT nag_log_old_village_id_fkey TO nag_log_village_id_fkey')
        op.execute('ALTER TABLE nag_log RENAME CONSTRAINT nag_log_old_village_id_obligation_key_kind_day_key '
                   'TO nag_log_village_id_obligation_key_kind_day_key')
    with op.batch_alter_table('nag_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nag_log_village_id'), ['village_id'], unique=False)
    op.drop_table('nag_scan')
