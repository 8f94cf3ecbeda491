"""Booking reminders (the day before and shortly before), and keeping slots published ahead.

Reminders are read from durable booking rows on every sweep, so one that fell due while
the scheduler was down is still sent, as long as the appointment is in the future. The
row's reminder_*_sent_at is set by a conditional UPDATE in the same transaction as the
outbox row: a reminder goes out once, across restarts and overlapping sweeps, and never
for a cancelled booking.

Settings (Config.booking_reminders, Config.booking_horizon_days; see storage/bookings.py):
- BOOKING_REMINDER_DAY_BEFORE ("18:00"): Tokyo time on the day before;
- BOOKING_REMINDER_BEFORE_MINUTES (60): how long before the start;
- BOOKING_HORIZON_DAYS (21): how far ahead availability is published as slots.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from common.clock import TOKYO
from scheduler.runner import register_sweep
from storage import bookings, outbox
from storage.bookings import ReminderTimes
from storage.db import transaction
from storage.models import Resident, utcnow
from storage.models.booking import Booking

log = logging.getLogger(__name__)

REMINDER_SECONDS = 60
HORIZON_SECONDS = 6 * 3600


def send_due_reminders(
    factory: sessionmaker[Session], now: datetime, times: ReminderTimes | None = None
) -> int:
    """Queue every reminder due at ``now``; returns how many were queued."""
    times = times or ReminderTimes()
    with transaction(factory) as session:
        due = bookings.due_reminders(session, now, times)
    sent = 0
    for booking_id, kind in due:
        with transaction(factory) as session:
            sent += _send_one(session, booking_id, kind, now)
    if due:
        log.info("booking reminders: %d due, %d queued", len(due), sent)
    return sent


def _send_one(session: Session, booking_id: int, kind: str, now: datetime) -> int:
    from handlers.flows.booking import reminder_replies

    if not bookings.claim_reminder(session, booking_id, kind, now):
        return 0  # another sweep took it, or it was cancelled meanwhile
    booking = session.get(Booking, booking_id)
    resident = session.get(Resident, booking.resident_id) if booking else None
    if booking is None or resident is None or not resident.active:
        return 0  # marked, so a blocked account is not retried every minute
    outbox.enqueue(session, resident, reminder_replies(session, booking, now), now=now,
                   sender="system", case_id=booking.case_id)
    return 1


def extend_slots(factory: sessionmaker[Session], now: datetime, days: int = 21) -> int:
    """Publish slots from availability up to the horizon, `days` ahead (idempotent)."""
    until = now.astimezone(TOKYO).date() + timedelta(days=days)
    with transaction(factory) as session:
        created = bookings.generate_slots(session, now=now, until=until)
    if created:
        log.info("booking slots: %d published up to %s", created, until.isoformat())
    return created


def reminder_sweep() -> None:
    """The scheduler's entry point (APScheduler stores jobs by function path)."""
    from scheduler.context import services

    svc = services()
    send_due_reminders(svc.factory, utcnow(), svc.config.booking_reminders)


def horizon_sweep() -> None:
    from scheduler.context import services

    svc = services()
    extend_slots(svc.factory, utcnow(), svc.config.booking_horizon_days)


register_sweep("booking_reminders", reminder_sweep, REMINDER_SECONDS)
register_sweep("booking_slot_horizon", horizon_sweep, HORIZON_SECONDS)
