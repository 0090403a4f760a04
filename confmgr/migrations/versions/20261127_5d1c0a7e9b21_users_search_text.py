"""users: a folded search text, so searches ignore case and diacritics on SQLite too

Revision ID: 5d1c0a7e9b21
Revises: ea04872b2d73
Created: 2026-11-27 11:40:00
"""
from alembic import op
import sqlalchemy as sa

from confmgr.text import fold

revision = '5d1c0a7e9b21'
down_revision = 'ea04872b2d73'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('email', sa.String),
                     sa.column('display_name', sa.String), sa.column('search_text', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.email, users.c.display_name)).all()
    if rows:
        # The same folding the app applies on every save (accounts.models.user_search_text).
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('user_id'))
            .values(search_text=sa.bindparam('text')),
            [{'user_id': id_, 'text': fold(f'{email} {name}')} for id_, email, name in rows])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('search_text')
