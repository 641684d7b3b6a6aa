"""consultations (协商, seed 001): topics proposed, scheduled and recorded, their outcome fed back

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0017'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consultation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=False),
    sa.Column('proposed_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('positions', sa.Text(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=True),
    sa.Column('adopted', sa.Boolean(), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['proposed_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_consultation_village_id'), 'consultation', ['village_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_consultation_village_id'), table_name='consultation')
    op.drop_table('consultation')
