"""attendance.method and attendance_changes.method: "all present" is a way of recording of
its own, so that a device's check-in taken before it is not taken for older than it

Revision ID: 2d8b6f0c3e51
Revises: 9c4f2a7e1b36
Created: 2026-12-02 10:00:00
"""
from alembic import op

revision = '2d8b6f0c3e51'
down_revision = '9c4f2a7e1b36'
branch_labels = None
depends_on = None

OLD_METHODS = "'manual', 'qr', 'import', 'api', 'self', 'headcount'"
NEW_METHODS = OLD_METHODS + ", 'all_present'"


def _allow(methods: str) -> None:
    for table in ('attendance', 'attendance_changes'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_checkin_method'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_checkin_method'),
                                             f"method IN ({methods})")


def upgrade() -> None:
    _allow(NEW_METHODS)


def downgrade() -> None:
    op.execute("UPDATE attendance SET method = 'manual' WHERE method = 'all_present'")
    op.execute("UPDATE attendance_changes SET method = 'manual' WHERE method = 'all_present'")
    _allow(OLD_METHODS)
