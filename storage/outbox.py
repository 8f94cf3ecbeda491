"""Outgoing messages: written with the effects that caused them, delivered after commit."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.leases import claim_heads
from storage.models import Message, Outbox, Resident

SENDING = "sending"
# Longer than one send can take (LINE timeouts are 3 s + 10 s), short enough that a
# crashed sender's reply is retried while its reply token may still be checked.
SEND_LEASE = timedelta(seconds=float(os.environ.get("SEND_LEASE_SECONDS", "30")))
MESSAGES_PER_SEND = 5  # LINE accepts at most five messages per reply or push
# LINE keeps a retry key for 24 hours; past that a resend could duplicate.
GIVE_UP_AFTER = timedelta(hours=23)


def enqueue(
    session: Session,
    resident: Resident,
    replies: list[Any],
    *,
    now: datetime,
    reply_token: str | None = None,
    reply_token_expires_at: datetime | None = None,
    sender: str = "bot",
    staff_id: int | None = None,
    case_id: int | None = None,
    inbound_event_id: int | None = None,
) -> list[Outbox]:
    """Queue replies (handlers.replies.Reply) for a resident and record them in history."""
    sends: list[Outbox] = []
    for start in range(0, len(replies), MESSAGES_PER_SEND):
        chunk = replies[start : start + MESSAGES_PER_SEND]
        send = Outbox(
            resident_id=resident.id,
            resident_key=resident.resident_key,
            channel=resident.channel,
            idempotency_key=str(uuid.uuid4()),
            inbound_event_id=inbound_event_id,
            messages=[r.to_dict() for r in chunk],
            # Only the first send may use the single-use reply token.
            reply_token=reply_token if start == 0 else None,
            reply_token_expires_at=reply_token_expires_at if start == 0 else None,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(send)
        session.flush()
        for reply in chunk:
            session.add(
                Message(
                    resident_id=resident.id, direction="out", sender=sender, kind="text",
                    text=reply.text, masked_text=reply.text, staff_id=staff_id,
                    case_id=case_id, outbox_id=send.id, created_at=now,
                )
            )
        sends.append(send)
    return sends


def claim(
    session: Session, worker_id: str, now: datetime, limit: int = 50,
    resident_key: str | None = None,
) -> list[int]:
    ready = Outbox.next_attempt_at <= now
    if resident_key is not None:
        ready = ready & (Outbox.resident_key == resident_key)
    return claim_heads(
        session, Outbox, active_status=SENDING, worker_id=worker_id, now=now,
        lease=SEND_LEASE, limit=limit, ready=ready,
    )


def mark_sent(send: Outbox, via: str, now: datetime) -> None:
    send.status, send.sent_via, send.sent_at = "sent", via, now
    send.reply_token = None  # single use; nothing to keep
    send.lease_until = None


def mark_retry(send: Outbox, error: str, now: datetime, after: float | None = None) -> None:
    if now - send.created_at > GIVE_UP_AFTER:
        mark_failed(send, f"gave up after {send.attempts} attempts: {error}")
        return
    delay = after if after is not None else min(2 ** send.attempts, 300)
    send.status, send.last_error = "pending", error[:500]
    send.next_attempt_at = now + timedelta(seconds=delay)
    send.lease_until = None


def mark_failed(send: Outbox, error: str) -> None:
    send.status, send.last_error, send.lease_until = "failed", error[:500], None


def backlog(session: Session) -> int:
    return session.scalar(
        select(func.count()).where(Outbox.status.in_(("pending", SENDING)))
    ) or 0
