"""township desk: the desk's log, rectification orders, inspections and their findings, console sign-in tokens;
the index of first publications the console's ranking reads

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
import models.types  # noqa: F401
from alembic import op


revision = '0014'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rectification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('ordered_by', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('what', sa.JSON(), nullable=False),
    sa.Column('met_keys', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('escalated_at', models.types.UTCDateTime(), nullable=True),
    sa.Column('closed_at', models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ordered_by'], ['person.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_rectification_state'), 'rectification', ['state'], unique=False)
    op.create_index(op.f('ix_rectification_township_id'), 'rectification', ['township_id'], unique=False)
    op.create_index(op.f('ix_rectification_village_id'), 'rectification', ['village_id'], unique=False)
    op.create_table('inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_inspection_township_id'), 'inspection', ['township_id'], unique=False)
    op.create_table('inspection_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_inspection_finding_inspection_id'), 'inspection_finding', ['inspection_id'], unique=False)
    op.create_index(op.f('ix_inspection_finding_village_id'), 'inspection_finding', ['village_id'], unique=False)
    op.create_table('desk_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('village_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('inspection_id', sa.Integer(), nullable=True),
    sa.Column('what', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspection.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['rectification.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ),
    sa.ForeignKeyConstraint(['village_id'], ['village.id'], ),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_desk_action_township_id'), 'desk_action', ['township_id'], unique=False)
    op.create_index(op.f('ix_desk_action_village_id'), 'desk_action', ['village_id'], unique=False)
    op.create_table('console_token',
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('expires_at', models.types.UTCDateTime(), nullable=False),
    sa.Column('used_at', models.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('digest'),
    )
    op.create_index(op.f('ix_console_token_person_id'), 'console_token', ['person_id'], unique=False)
    # the ranking's first publication of each (village, item, period): written as in models.notices
    first_published = sa.text("published_at IS NOT NULL AND corrects_id IS NULL")
    op.create_index('ix_notice_first_published', 'notice', ['village_id', 'item_id', 'period', 'published_at'],
                    unique=False, postgresql_include=['state'], postgresql_where=first_published,
                    sqlite_where=first_published)


def downgrade() -> None:
    op.drop_index('ix_notice_first_published', table_name='notice')
    op.drop_index(op.f('ix_console_token_person_id'), table_name='console_token')
    op.drop_table('console_token')
    op.drop_index(op.f('ix_desk_action_village_id'), table_name='desk_action')
    op.drop_index(op.f('ix_desk_action_township_id'), table_name='desk_action')
    op.drop_table('desk_action')
    op.drop_index(op.f('ix_inspection_finding_village_id'), table_name='inspection_finding')
    op.drop_index(op.f('ix_inspection_finding_inspection_id'), table_name='inspection_finding')
    op.drop_table('inspection_finding')
    op.drop_index(op.f('ix_inspection_township_id'), table_name='inspection')
    op.drop_table('inspection')
    op.drop_index(op.f('ix_rectification_village_id'), table_name='rectification')
    op.drop_index(op.f('ix_rectification_township_id'), table_name='rectification')
    op.drop_index(op.f('ix_rectification_state'), table_name='rectification')
    op.drop_table('rectification')
