"""conversation_states.claimed_ack_at: out-of-hours acknowledgement on a claimed case

Revision ID: 0006_dialogue
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_dialogue"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_states") as batch:
        batch.add_column(sa.Column("claimed_ack_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversation_states") as batch:
        batch.drop_column("claimed_ack_at")
