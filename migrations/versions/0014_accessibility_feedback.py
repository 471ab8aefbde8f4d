"""accessibility: feedback on barriers from the accessibility statement

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "accessibility_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("contact", sa.String(length=254), nullable=True),
        sa.Column("page", sa.String(length=300), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "new",
                "answered",
                name="feedback_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["staff_user.id"],
            name=op.f("fk_accessibility_feedback_answered_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accessibility_feedback")),
    )
    op.create_index(
        op.f("ix_accessibility_feedback_created_at"),
        "accessibility_feedback",
        ["created_at"],
        unique=False,
    )


def downgrade():
    op.drop_index(
        op.f("ix_accessibility_feedback_created_at"), table_name="accessibility_feedback"
    )
    op.drop_table("accessibility_feedback")
