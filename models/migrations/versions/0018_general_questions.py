"""general questions: a resident's question need not be about a notice (question.notice_id nullable; the
question's village_id, set since 0002, says whose staff answer it)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.alter_column('notice_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # A general question has no notice to fall back on: it cannot survive the older schema.
    op.execute("DELETE FROM question_entry WHERE question_id IN (SELECT id FROM question WHERE notice_id IS NULL)")
    op.execute("DELETE FROM question WHERE notice_id IS NULL")
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.alter_column('notice_id', existing_type=sa.Integer(), nullable=False)
