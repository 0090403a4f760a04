"""participants.name_norm and broadcast_points.search_text without a length limit: lower
case ("İ" becomes two characters) and folding (a Hangul syllable becomes two or three)
can make them longer than the name they come from, which PostgreSQL refused

Revision ID: 7d3c9e1a5b62
Revises: 5b8e1d7c2a94
Created: 2026-11-29 08:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '7d3c9e1a5b62'
down_revision = '5b8e1d7c2a94'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.alter_column('name_norm', existing_type=sa.String(200), type_=sa.Text(),
                              existing_nullable=False)
    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.alter_column('search_text', existing_type=sa.String(400), type_=sa.Text(),
                              existing_nullable=False)


def downgrade() -> None:
    # A longer value saved meanwhile is cut to the old limit rather than stop the downgrade.
    participants = sa.table('participants', sa.column('name_norm', sa.Text))
    points = sa.table('broadcast_points', sa.column('search_text', sa.Text))
    op.execute(participants.update().where(sa.func.length(participants.c.name_norm) > 200)
               .values(name_norm=sa.func.substr(participants.c.name_norm, 1, 200)))
    op.execute(points.update().where(sa.func.length(points.c.search_text) > 400)
               .values(search_text=sa.func.substr(points.c.search_text, 1, 400)))
    with op.batch_alter_table('broadcast_points', schema=None) as batch_op:
        batch_op.alter_column('search_text', existing_type=sa.Text(), type_=sa.String(400),
                              existing_nullable=False)
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.alter_column('name_norm', existing_type=sa.Text(), type_=sa.String(200),
                              existing_nullable=False)
