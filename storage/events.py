"""The inbound event log: store once, claim in order, finish with the effects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.leases import claim_heads
from storage.models import InboundEvent, utcnow

PROCESSING = "processing"
# How long a claimed event stays with its worker before another may take it over.
EVENT_LEASE = timedelta(seconds=60)  # the default; Config.event_lease_seconds
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class NewEvent:
    channel: str
    event_id: str
    event_type: str
    resident_key: str | None
    payload: dict[str, Any]


def store(session: Session, events: list[NewEvent]) -> int:
    """Insert events, silently skipping ones already stored. Returns how many were new."""
    if not events:
        return 0
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [
        {
            "channel": e.channel,
            "event_id": e.event_id[:128],
            "event_type": e.event_type[:32],
            "resident_key": e.resident_key,
            "payload": e.payload,
            "received_at": now,
            "status": "pending",
            "attempts": 0,
        }
        for e in events
    ]
    stmt = insert(InboundEvent.__table__).on_conflict_do_nothing(
        index_elements=["channel", "event_id"]
    )
    connection = session.connection()
    # One row at a time: an exact count of new events on every driver.
    return sum(max(connection.execute(stmt, row).rowcount, 0) for row in rows)


def claim(session: Session, worker_id: str, now: datetime, limit: int = 20,
          lease: timedelta = EVENT_LEASE) -> list[int]:
    return claim_heads(
        session, InboundEvent, active_status=PROCESSING, worker_id=worker_id,
        now=now, lease=lease, limit=limit,
    )


def give_back(session: Session, event_id: int, error: str, now: datetime) -> None:
    """An attempt failed: retry later, or give up after MAX_ATTEMPTS so others proceed."""
    event = session.get(InboundEvent, event_id)
    if event is None:
        return
    event.error = error[:500]
    if event.attempts >= MAX_ATTEMPTS:
        event.status = "failed"
        event.processed_at = now
    else:
        # Stays leased until the backoff passes; then it is claimable again.
        event.lease_until = now + timedelta(seconds=2 ** event.attempts)


def backlog(session: Session) -> tuple[int, float]:
    """(pending events, age in seconds of the oldest) for health and metrics."""
    count, oldest = session.execute(
        select(func.count(), func.min(InboundEvent.received_at)).where(
            InboundEvent.status.in_(("pending", PROCESSING))
        )
    ).one()
    if oldest is None:
        return count, 0.0
    if oldest.tzinfo is None:
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return count, (utcnow() - oldest).total_seconds()
