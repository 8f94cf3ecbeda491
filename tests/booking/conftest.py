"""Helpers for booking tests: residents, availability and slots at fixed Tokyo times."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from storage import bookings
from storage.bookings import TOKYO
from storage.models import Resident
from storage.models.booking import Slot
from storage.residents import alias_for

# A Wednesday in June: no national holiday near it, so weekday arithmetic is plain.
NOW = datetime(2027, 6, 2, 10, 0, tzinfo=TOKYO)
WINDOW = "east_center"


def tokyo(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TOKYO)


def add_resident(session: Session, *, now: datetime = NOW, district: str | None = None
                 ) -> Resident:
    key = uuid.uuid4().hex + uuid.uuid4().hex
    resident = Resident(
        resident_key=key, alias=alias_for(key), channel="line", channel_user_id="U" + key[:32],
        active=True, district=district, created_at=now, last_seen_at=now,
    )
    session.add(resident)
    session.flush()
    return resident


def add_slot(session: Session, start: datetime, *, capacity: int = 1, minutes: int = 45,
             window: str = WINDOW, mode: str = "visit_office", now: datetime = NOW) -> Slot:
    slot = Slot(window_id=window, starts_at=start, ends_at=start + timedelta(minutes=minutes),
                mode=mode, capacity=capacity, booked=0, status="open", created_at=now)
    session.add(slot)
    session.flush()
    return slot


def weekday_availability(session: Session, *, window: str = WINDOW, start: str = "10:00",
                         end: str = "16:00", minutes: int = 45, capacity: int = 2,
                         valid_from: date = NOW.date(), now: datetime = NOW,
                         weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)):
    return bookings.add_availability(
        session, window_id=window, weekdays=weekdays, start=start, end=end,
        slot_minutes=minutes, capacity=capacity, mode="来所", now=now, valid_from=valid_from,
    )


@pytest.fixture
def session(svc):
    with svc.factory() as s, s.begin():
        yield s
