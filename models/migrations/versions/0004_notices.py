"""notices: outbox claims and per-step progress; a posting's attachment messages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

- outbox.progress: what of a multi-request row (text parts, attachments, pin) Telegram has confirmed,
  so a retry continues where it stopped instead of sending part 1 again;
- outbox.claimed_by / claimed_until: the delivery worker that claimed a row and until when its lease runs
  (several workers share one PostgreSQL outbox; a dead worker's rows are recovered after the lease);
- posting.attachment_ids: the messages that carry a notice's attachments, kept apart from its text parts
  so a correction edits the text in place and leaves unchanged attachments alone.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', models.types.UTCDateTime(), nullable=True))
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment_ids', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.drop_column('attachment_ids')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('progress')
