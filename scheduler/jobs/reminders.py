"""Booking reminders (the day before and shortly before), and keeping slots published ahead.

Reminders are read from durable booking rows on every sweep, so one that fell due while
the scheduler was down is still sent, as long as the appointment is in the future. The
row's reminder_*_sent_at is set by a conditional UPDATE in the same transaction as the
outbox row: a reminder goes out once, across restarts and overlapping sweeps, and never
for a cancelled booking.

Settings (environment):
- BOOKING_REMINDER_DAY_BEFORE ("18:00"): Tokyo time on the day before;
- BOOKING_REMINDER_BEFORE_MINUTES (60): how long before the start;
- BOOKING_HORIZON_DAYS (21): how far ahead availability is published as slots.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from scheduler.runner import register_sweep
from storage import bookings, outbox
from storage.bookings import ReminderTimes
from storage.db import transaction
from storage.models import Resident, utcnow
from storage.models.booking import Booking

log = logging.getLogger(__name__)

REMINDER_SECONDS = 60
HORIZON_SECONDS = 6 * 3600


def reminder_times(env: dict[str, str] | None = None) -> ReminderTimes:
    env = dict(os.environ if env is None else env)
    default = ReminderTimes()
    try:
        at = bookings.parse_hhmm(env.get("BOOKING_REMINDER_DAY_BEFORE", "18:00"))
        minutes = float(env.get("BOOKING_REMINDER_BEFORE_MINUTES", "60"))
    except ValueError:
        log.warning("booking reminder settings are invalid; using 18:00 and 60 minutes")
        return default
    return ReminderTimes(day_before_at=at, before=timedelta(minutes=max(minutes, 1)))


def horizon_days(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    try:
        return max(int(env.get("BOOKING_HORIZON_DAYS", "21")), 1)
    except ValueError:
        return 21


def send_due_reminders(
    factory: sessionmaker[Session], now: datetime, times: ReminderTimes | None = None
) -> int:
    """Queue every reminder due at ``now``; returns how many were queued."""
    times = times or reminder_times()
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


def extend_slots(factory: sessionmaker[Session], now: datetime, days: int | None = None) -> int:
    """Publish slots from availability up to the horizon (idempotent)."""
    from common.clock import TOKYO

    until = now.astimezone(TOKYO).date() + timedelta(days=days or horizon_days())
    with transaction(factory) as session:
        created = bookings.generate_slots(session, now=now, until=until)
    if created:
        log.info("booking slots: %d published up to %s", created, until.isoformat())
    return created


def _factory() -> Any:
    from scheduler.context import services

    return services().factory


def reminder_sweep() -> None:
    """The scheduler's entry point (APScheduler stores jobs by function path)."""
    send_due_reminders(_factory(), utcnow())


def horizon_sweep() -> None:
    extend_slots(_factory(), utcnow())


register_sweep("booking_reminders", reminder_sweep, REMINDER_SECONDS)
register_sweep("booking_slot_horizon", horizon_sweep, HORIZON_SECONDS)
