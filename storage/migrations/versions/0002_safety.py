"""safety triage: the case's risk band, score and reason; the check questions and answers

Revision ID: 0002_safety
Revises: 0003_channels
Create Date: 2026-12-01 12:12:05

Columns are added to `cases` with plain ALTER TABLE (no batch mode: re-creating `cases`
with foreign keys on would cascade-delete its notes, see 0003_channels). risk_reason and
safety_checks.evidence may quote the resident and are encrypted (storage.types).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_safety"
down_revision = "0003_channels"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "safety_checks",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("resident_id", BIG_ID, nullable=True),
        sa.Column("message_id", BIG_ID, nullable=True),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(length=12), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("analysis", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_safety_checks_case_id_cases"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_safety_checks_message_id_messages"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"],
                                name=op.f("fk_safety_checks_resident_id_residents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_checks")),
    )
    op.create_index("ix_safety_checks_answer_due_at", "safety_checks", ["answer", "due_at"])
    op.add_column("cases", sa.Column("risk", sa.String(length=8), nullable=True))
    op.add_column("cases", sa.Column("risk_score", sa.Float(), nullable=True))
    op.add_column("cases", sa.Column("risk_reason", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("cases", "risk_reason")
    op.drop_column("cases", "risk_score")
    op.drop_column("cases", "risk")
    op.drop_index("ix_safety_checks_answer_due_at", table_name="safety_checks")
    op.drop_table("safety_checks")
