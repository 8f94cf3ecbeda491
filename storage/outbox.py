"""Outgoing messages: written with the effects that caused them, delivered after commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from storage.leases import claim_heads
from storage.models import Message, Outbox, Resident

SENDING = "sending"
HIGH, NORMAL = "high", "normal"
# Longer than one send can take (LINE timeouts are 3 s + 10 s), short enough that a
# crashed sender's reply is retried while its reply token may still be checked.
SEND_LEASE = timedelta(seconds=30)  # the default; Config.send_lease_seconds
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
    priority: str | None = None,
) -> list[Outbox]:
    """Queue replies (handlers.replies.Reply) for a resident and record them in history.
    Staff messages are high priority (they may use the last of the push quota)."""
    priority = priority or (HIGH if sender == "staff" else NORMAL)
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
            priority=priority,
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


def enqueue_batch(
    session: Session, sends: Sequence[tuple[Resident, list[Any], str]], now: datetime,
    sender: str = "system",
) -> None:
    """enqueue() for many residents at once (scheduled check-ins): two multi-row INSERTs
    instead of a flush per resident, each send keyed by the caller's stable idempotency key
    (sent to LINE as X-Line-Retry-Key), with at most MESSAGES_PER_SEND replies each."""
    if not sends:
        return
    rows = []
    for resident, replies, key in sends:
        if len(replies) > MESSAGES_PER_SEND:
            raise ValueError("a batched send holds at most five messages")
        rows.append({
            "resident_id": resident.id, "resident_key": resident.resident_key,
            "channel": resident.channel, "idempotency_key": key,
            "messages": [r.to_dict() for r in replies], "status": "pending", "attempts": 0,
            "next_attempt_at": now, "created_at": now,
        })
    ids = dict(session.execute(
        insert(Outbox).returning(Outbox.idempotency_key, Outbox.id), rows
    ).all())
    session.execute(insert(Message), [
        {"resident_id": resident.id, "direction": "out", "sender": sender, "kind": "text",
         "text": reply.text, "masked_text": reply.text, "outbox_id": ids[key],
         "created_at": now}
        for resident, replies, key in sends for reply in replies
    ])


def claim(
    session: Session, worker_id: str, now: datetime, limit: int = 50,
    resident_key: str | None = None, lease: timedelta = SEND_LEASE,
) -> list[int]:
    ready = Outbox.next_attempt_at <= now
    if resident_key is not None:
        ready = ready & (Outbox.resident_key == resident_key)
    return claim_heads(
        session, Outbox, active_status=SENDING, worker_id=worker_id, now=now,
        lease=lease, limit=limit, ready=ready,
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
