"""The audit log: who saw or did what, when, to which case. Never message text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEntry

# What staff can do that the city must be able to account for later.
ACTIONS = (
    "login", "login_failed", "login_locked", "logout", "session_expired",
    "view_case", "view_messages", "reveal_pii", "claim", "claim_lost", "release", "reply",
    "note", "refer", "referral_confirmed", "referral_declined", "close", "export_csv",
    "staff_create", "staff_update", "slack_claim", "slack_reply",
    "booking_cancel_slot", "booking_attendance", "booking_availability", "booking_closed_day",
    "booking_feed_rotate", "view_booking_names",
    "checkin_enrol", "checkin_pause", "checkin_resume", "checkin_end",
    "content_edit", "content_import", "content_export", "content_publish", "content_rollback",
    "content_discard",
)


def record(
    session: Session,
    action: str,
    *,
    now: datetime,
    staff_id: int | None = None,
    case_id: int | None = None,
    resident_alias: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction, so the act and its record commit together."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        staff_id=staff_id, action=action, case_id=case_id, resident_alias=resident_alias,
        detail=(detail or None) and detail[:500], created_at=now,
    )
    session.add(entry)
    return entry


def for_case(session: Session, case_id: int, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case_id)
        .order_by(AuditEntry.id.desc()).limit(limit)
    ))


def recent(session: Session, limit: int = 200, staff_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if staff_id is not None:
        query = query.where(AuditEntry.staff_id == staff_id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class Filter:
    """What an admin narrows the log to; None means any."""

    staff_id: int | None = None
    action: str | None = None
    case_id: int | None = None
    resident_alias: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive


def search(session: Session, where: Filter, *, limit: int = 200,
           before_id: int | None = None) -> list[AuditEntry]:
    """Newest first; page on with before_id = the last id of the previous page."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if where.staff_id is not None:
        query = query.where(AuditEntry.staff_id == where.staff_id)
    if where.action is not None:
        query = query.where(AuditEntry.action == where.action)
    if where.case_id is not None:
        query = query.where(AuditEntry.case_id == where.case_id)
    if where.resident_alias is not None:
        query = query.where(AuditEntry.resident_alias == where.resident_alias)
    if where.start is not None:
        query = query.where(AuditEntry.created_at >= where.start)
    if where.end is not None:
        query = query.where(AuditEntry.created_at < where.end)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.scalars(query))
