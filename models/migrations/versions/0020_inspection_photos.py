"""inspection photos (the township desk's inspection records carry Telegram file ids)

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('file_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('file_unique_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_inspection_photo_inspection_id'), 'inspection_photo', ['inspection_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inspection_photo_inspection_id'), table_name='inspection_photo')
    op.drop_table('inspection_photo')
