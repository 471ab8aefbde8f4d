"""api: answers kept for retries with an Idempotency-Key (24 hours)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 22:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_idempotent_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sealed_manage_token", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotent_answer")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_api_idempotent_answer_scope_key")),
    )
    op.create_index(
        op.f("ix_api_idempotent_answer_created_at"),
        "api_idempotent_answer",
        ["created_at"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_api_idempotent_answer_created_at"), table_name="api_idempotent_answer")
    op.drop_table("api_idempotent_answer")
