"""channels: encrypt every column that holds a resident's words; Slack posts; notice
leases; outbox priority

Revision ID: 0003_channels
Revises: 0006_dialogue, 0007_content
Create Date: 2026-12-01 12:30:00

The data migration encrypts the existing rows of the newly encrypted columns with the
process key ring (storage.crypto, configured from ENCRYPTION_KEYS before migrating): each
column is copied into an encrypted twin, the plain column dropped and the twin renamed.
Plain ALTER TABLE … DROP/RENAME COLUMN (SQLite ≥ 3.35) is used instead of Alembic's batch
mode on purpose: batch mode re-creates the table, and dropping `cases` with foreign keys on
would cascade-delete its notes.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

# A data migration needs the keys; storage.crypto holds nothing but the key ring.
from storage import crypto

revision = "0003_channels"
down_revision = ("0006_dialogue", "0007_content")  # merges the two heads on main
branch_labels = None
depends_on = None

# (table, primary key, column, "text" | "json", nullable)
ENCRYPTED = (
    ("cases", "id", "urgent_reason", "text", True),
    ("cases", "id", "topic_evidence", "json", False),
    ("messages", "id", "analysis", "json", True),
    ("conversation_states", "resident_id", "data", "json", False),
    ("residents", "id", "district", "text", True),
    ("checkin_enrolments", "id", "consent_by", "text", False),
    ("checkin_enrolments", "id", "pause_reason", "text", True),
    ("checkin_enrolments", "id", "end_reason", "text", True),
    ("checkins", "id", "note", "text", True),
)
BATCH = 500


def upgrade() -> None:
    for table, pk, column, kind, nullable in ENCRYPTED:
        _swap(table, pk, column, nullable, sa.LargeBinary(), lambda v, k=kind: _seal(v, k))
    op.add_column("case_notifications", sa.Column("claimed_by", sa.String(64), nullable=True))
    op.add_column("outbox", sa.Column("priority", sa.String(8), nullable=False,
                                      server_default="normal"))
    op.create_index("ix_case_notifications_case_id_status", "case_notifications",
                    ["case_id", "status", "id"])
    op.create_table(
        "slack_posts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_slack_posts_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_posts")),
    )
    op.create_index("ix_slack_posts_case_id", "slack_posts", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_slack_posts_case_id", table_name="slack_posts")
    op.drop_table("slack_posts")
    op.drop_index("ix_case_notifications_case_id_status", table_name="case_notifications")
    _drop_column("case_notifications", "claimed_by")
    _drop_column("outbox", "priority")
    for table, pk, column, kind, nullable in ENCRYPTED:
        plain: Any = sa.JSON() if kind == "json" else sa.Text()
        _swap(table, pk, column, nullable, plain, lambda v, k=kind: _open(v, k))


def _swap(table: str, pk: str, column: str, nullable: bool, new_type: Any,
          convert: Any) -> None:
    """Copy `column` through `convert` into a twin of `new_type`, then put the twin in its
    place."""
    bind = op.get_bind()
    twin = f"{column}_new"
    sqlite = bind.dialect.name == "sqlite"
    if nullable or not sqlite:
        op.add_column(table, sa.Column(twin, new_type, nullable=True))
    else:  # SQLite adds a NOT NULL column only with a default
        default = sa.text("x''") if isinstance(new_type, sa.LargeBinary) else sa.text("''")
        op.add_column(table, sa.Column(twin, new_type, nullable=False, server_default=default))
    source = sa.table(table, sa.column(pk), sa.column(column))
    target = sa.table(table, sa.column(pk), sa.column(twin, new_type))
    last = None
    while True:
        query = sa.select(source.c[pk], source.c[column]).where(
            source.c[column].is_not(None)).order_by(source.c[pk]).limit(BATCH)
        if last is not None:
            query = query.where(source.c[pk] > last)
        rows = bind.execute(query).all()
        for row_id, value in rows:
            bind.execute(sa.update(target).where(target.c[pk] == row_id)
                         .values({twin: convert(value)}))
        if len(rows) < BATCH:
            break
        last = rows[-1][0]
    _drop_column(table, column)
    op.execute(f'ALTER TABLE {table} RENAME COLUMN {twin} TO "{column}"')
    if not nullable and not sqlite:
        op.alter_column(table, column, existing_type=new_type, nullable=False)


def _drop_column(table: str, column: str) -> None:
    op.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')


def _seal(value: Any, kind: str) -> bytes:
    if kind == "json":
        document = json.loads(value) if isinstance(value, str | bytes) else value
        raw = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    else:
        raw = str(value)
    return crypto.encrypt(raw.encode("utf-8"))


def _open(value: Any, kind: str) -> Any:
    raw = crypto.decrypt(bytes(value)).decode("utf-8")
    return json.loads(raw) if kind == "json" else raw
