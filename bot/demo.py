"""Seed the embedded demo: staff accounts whose credentials README states."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import Services
from storage.db import transaction
from storage.models import StaffUser
from storage.staff import create_staff

DEMO_STAFF = (
    ("demo", "madoguchi-demo", "coordinator", "デモ 相談員"),
    ("admin", "madoguchi-admin", "admin", "デモ 管理者"),
)


def seed_demo(svc: Services) -> list[str]:
    """Idempotent: only creates what is missing. Returns lines to show the newcomer."""
    lines: list[str] = []
    with transaction(svc.factory) as session:
        for username, password, role, name in DEMO_STAFF:
            if session.scalar(select(StaffUser).where(StaffUser.username == username)) is None:
                create_staff(session, username, password, role, display_name=name)
                lines.append(f"demo staff account: {username} / {password} ({role})")
    from bot.staff_bookings import seed_demo_slots

    lines += seed_demo_slots(svc.factory)
    return lines
