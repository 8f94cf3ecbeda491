"""Seed the embedded demo: staff accounts whose credentials README states, and booking slots."""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError
from bot.services import Services
from storage import bookings
from storage.db import transaction
from storage.models import StaffUser, utcnow
from storage.staff import create_staff, verify_password

log = logging.getLogger(__name__)
DEMO_STAFF = (
    ("demo", "madoguchi-demo", "coordinator", "デモ 相談員"),
    ("admin", "madoguchi-admin", "admin", "デモ 管理者"),
)
DEMO_AVAILABILITY = (
    # weekdays, start, end, minutes, capacity, mode
    ((0, 1, 2, 3, 4), "10:00", "16:00", 45, 2, "visit_office"),
    ((1, 3), "13:30", "15:30", 30, 1, "phone"),
)


def seed_demo(svc: Services) -> list[str]:
    """Idempotent: only creates what is missing. Returns lines to show the newcomer.

    Demo accounts have known passwords: they go only into the embedded SQLite demo."""
    if not svc.config.embedded_demo:
        raise ConfigError(
            "demo accounts (with the passwords in README) are seeded only into the embedded "
            "SQLite demo (`make run`), not into DATABASE_URL; create real accounts with "
            "`python -m bot create-staff`")
    lines: list[str] = []
    with transaction(svc.factory) as session:
        for username, password, role, name in DEMO_STAFF:
            if session.scalar(select(StaffUser).where(StaffUser.username == username)) is None:
                create_staff(session, username, password, role, display_name=name)
                lines.append(f"demo staff account: {username} / {password} ({role})")
    lines += seed_demo_slots(svc)
    return lines


def seed_demo_slots(svc: Services, now: datetime | None = None) -> list[str]:
    """Availability for each bookable window that has none, published up to the horizon."""
    from bot.staff.bookings import bookable_windows

    now = now or utcnow()
    today = now.astimezone(bookings.TOKYO).date()
    days = svc.config.booking_horizon_days
    lines: list[str] = []
    with transaction(svc.factory) as session:
        for agency in bookable_windows():
            if bookings.active_availability(session, agency.id):
                continue
            for weekdays, start, end, minutes, capacity, mode in DEMO_AVAILABILITY:
                bookings.add_availability(
                    session, window_id=agency.id, weekdays=weekdays, start=start, end=end,
                    slot_minutes=minutes, capacity=capacity, mode=mode, now=now,
                    valid_from=today,
                )
            lines.append(f"demo booking availability for {agency.name}")
        created = bookings.generate_slots(session, now=now, until=today + timedelta(days=days))
    if created:
        lines.append(f"{created} demo booking slots published for the next {days} days")
    return lines


def demo_accounts_present(svc: Services) -> list[str]:
    """Usernames that still open with a demo password (README prints them)."""
    found = []
    with svc.factory() as session:
        for username, password, _role, _name in DEMO_STAFF:
            user = session.scalar(select(StaffUser).where(StaffUser.username == username))
            if user is not None and user.active and verify_password(user, password):
                found.append(username)
    return found


def refuse_demo_accounts(svc: Services) -> None:
    """`web` outside the embedded demo will not serve a database with demo accounts."""
    if svc.config.embedded_demo:
        return
    try:
        found = demo_accounts_present(svc)
    except SQLAlchemyError as exc:  # not migrated yet, or down: sign-in refuses them anyway
        log.warning("could not check for demo accounts (%s)", type(exc).__name__)
        return
    if found:
        raise ConfigError(
            f"the database has demo account(s) {', '.join(found)} with the password printed in "
            "README; deactivate them or give them new passwords (staff admin page) before "
            "serving the console")


def is_demo_credential(username: str, password: str) -> bool:
    return any(username == name and hmac.compare_digest(password.encode(), secret.encode())
               for name, secret, _role, _label in DEMO_STAFF)
