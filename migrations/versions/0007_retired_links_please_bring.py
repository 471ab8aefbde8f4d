"""retired manage links (an old link says why it ended); what to bring, per service

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:14:47.836041

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('retired_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('appointment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('moved', name='retired_reason', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_retired_token_appointment_id_appointment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_retired_token'))
    )
    op.create_index(op.f('ix_retired_token_appointment_id'), 'retired_token', ['appointment_id'], unique=False)
    # A plain ADD COLUMN: a batch rebuild would drop "service" under the appointments' keys.
    op.add_column('service', sa.Column('please_bring', sa.Text(), server_default=sa.text("''"), nullable=False))


def downgrade():
    # SQLite >= 3.35 drops a column in place.
    op.drop_column('service', 'please_bring')
    op.drop_index(op.f('ix_retired_token_appointment_id'), table_name='retired_token')
    op.drop_table('retired_token')
