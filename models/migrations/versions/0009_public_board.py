"""public board: each village's board visibility, and posting proofs (a photo of the printed notice posted)

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('board_setting',
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('visibility', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('link_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('updated_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('village_id'),
    sa.UniqueConstraint('link_key'),
    )
    op.create_table('posting_proof',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('file_unique_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_posting_proof_notice_id'), 'posting_proof', ['notice_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_posting_proof_notice_id'), table_name='posting_proof')
    op.drop_table('posting_proof')
    op.drop_table('board_setting')
