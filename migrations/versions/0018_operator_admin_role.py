"""staff_user.role may be 'operator_admin' (manages the offices of one operator)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-26 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

OLD = ("admin", "caseworker", "reception", "privacy")
NEW = ("admin", "caseworker", "reception", "privacy", "operator_admin")


def set_roles(values):
    check = sa.column("role").in_(values)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("ck_staff_user_staff_role"), "staff_user", type_="check")
        op.create_check_constraint(op.f("ck_staff_user_staff_role"), "staff_user", check)
    else:
        # SQLite changes a CHECK only by rebuilding the table (env.py turns foreign keys off).
        with op.batch_alter_table("staff_user", recreate="always") as batch_op:
            batch_op.drop_constraint(op.f("ck_staff_user_staff_role"), type_="check")
            batch_op.create_check_constraint(op.f("ck_staff_user_staff_role"), check)


def upgrade():
    set_roles(NEW)


def downgrade():
    # An operator admin without the role keeps nothing it could misuse: inactive reception.
    op.execute("UPDATE staff_user SET active = false WHERE role = 'operator_admin'")
    op.execute("UPDATE staff_user SET role = 'reception' WHERE role = 'operator_admin'")
    set_roles(OLD)
