"""scan writes: nag_log without its foreign key; outbox JSON compressed with lz4 on PostgreSQL

The heavy-day scan writes ~180,000 nag log rows for 10,000 villages (bench/obligations.py). On PostgreSQL
the foreign key to village made every one of them run a referential-integrity check (a trigger and an
index probe): about 40% of the statement's time. Villages are never deleted, and each row's village id
comes from the village table in the same transaction, so the key guarded nothing. The digests the scan
queues (one outbox row per person, ~5 KB of JSON context each) were compressed with pglz; lz4 (PostgreSQL
14 and later, when the server is built with it) does the same in half the time. Where lz4 is unavailable
the columns keep the server's default.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# dynamic SQL inside an exception block: a server without lz4 (or older than 14) leaves the default
_COMPRESSION = """
DO $$
BEGIN
    EXECUTE 'ALTER TABLE outbox ALTER COLUMN context SET COMPRESSION {method}, '
            'ALTER COLUMN keyboard SET COMPRESSION {method}';
EXCEPTION WHEN others THEN
    RAISE NOTICE 'outbox: compression {method} not available (%), the default is kept', SQLERRM;
END $$;
"""


def _rebuild_nag_log(with_foreign_key: bool) -> None:
    """SQLite cannot drop a constraint: the table is rebuilt (a WITHOUT ROWID table, as in 0005)."""
    keys = [sa.ForeignKeyConstraint(['village_id'], ['village.id'], )] if with_foreign_key else []
    op.create_table('nag_log_new',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('obligation_key', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent_at', models.types.UTCDateTime(), nullable=False),
    *keys,
    sa.PrimaryKeyConstraint('village_id', 'obligation_key', 'kind', 'day'),
    sqlite_with_rowid=False,
    )
    op.execute('INSERT INTO nag_log_new (village_id, obligation_key, kind, day, sent_at) '
               'SELECT village_id, obligation_key, kind, day, sent_at FROM nag_log')
    op.drop_table('nag_log')
    op.rename_table('nag_log_new', 'nag_log')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('nag_log_village_id_fkey', 'nag_log', type_='foreignkey')
        op.execute(_COMPRESSION.format(method='lz4'))
    else:
        _rebuild_nag_log(with_foreign_key=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_foreign_key('nag_log_village_id_fkey', 'nag_log', 'village', ['village_id'], ['id'])
        op.execute(_COMPRESSION.format(method='pglz'))
    else:
        _rebuild_nag_log(with_foreign_key=True)
