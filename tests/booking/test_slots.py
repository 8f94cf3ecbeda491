"""Availability becomes slots: weekdays, holidays, 年末年始, closed days, leap days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from storage import bookings
from storage.bookings import BookingError
from storage.models.booking import Slot
from tests.booking.conftest import NOW, WINDOW, tokyo, weekday_availability


def _days(session) -> list[date]:
    starts = session.scalars(select(Slot.starts_at).order_by(Slot.starts_at))
    return sorted({s.astimezone(bookings.TOKYO).date() for s in starts})


def test_weekday_hours_are_cut_into_whole_slots_in_tokyo_time(session):
    weekday_availability(session, start="10:00", end="16:00", minutes=45)
    created = bookings.generate_slots(session, now=NOW, until=date(2027, 6, 3))
    slots = session.scalars(select(Slot).order_by(Slot.starts_at)).all()
    # Wed 6/2 from 10:45 (10:00 is "now", not bookable), Thu 6/3 all eight 45-minute slots
    assert created == len(slots) == 7 + 8
    thursday = [s for s in slots if s.starts_at.astimezone(bookings.TOKYO).day == 3]
    assert [f"{s.starts_at.astimezone(bookings.TOKYO):%H:%M}" for s in thursday] == [
        "10:00", "10:45", "11:30", "12:15", "13:00", "13:45", "14:30", "15:15"]
    assert all(s.starts_at.tzinfo is not None and s.capacity == 2 for s in slots)
    assert thursday[-1].ends_at.astimezone(bookings.TOKYO).hour == 16


def test_generation_is_idempotent(session):
    weekday_availability(session)
    first = bookings.generate_slots(session, now=NOW, until=date(2027, 6, 30))
    again = bookings.generate_slots(session, now=NOW, until=date(2027, 6, 30))
    assert first > 0 and again == 0
    assert session.scalar(select(func.count()).select_from(Slot)) == first


def test_weekends_and_national_holidays_are_skipped(session):
    # 2027-09-20 is 敬老の日 (Monday), 2027-09-23 秋分の日 (Thursday)
    now = tokyo(2027, 9, 17, 9)
    weekday_availability(session, valid_from=now.date(), now=now)
    bookings.generate_slots(session, now=now, until=date(2027, 9, 24))
    assert _days(session) == [date(2027, 9, 17), date(2027, 9, 21), date(2027, 9, 22),
                              date(2027, 9, 24)]


def test_year_end_closure_runs_from_12_29_to_1_3(session):
    now = tokyo(2027, 12, 27, 9)
    weekday_availability(session, valid_from=now.date(), now=now)
    bookings.generate_slots(session, now=now, until=date(2028, 1, 7))
    assert _days(session) == [date(2027, 12, 27), date(2027, 12, 28), date(2028, 1, 4),
                              date(2028, 1, 5), date(2028, 1, 6), date(2028, 1, 7)]


def test_a_closed_day_publishes_nothing(session):
    weekday_availability(session)
    bookings.add_closed_day(session, window_id=WINDOW, day=date(2027, 6, 4), reason="研修",
                            now=NOW)
    bookings.generate_slots(session, now=NOW, until=date(2027, 6, 8))
    assert date(2027, 6, 4) not in _days(session)
    assert date(2027, 6, 7) in _days(session)


def test_generation_across_the_leap_day_2028_02_29(session):
    now = tokyo(2028, 2, 25, 8)  # Friday
    bookings.add_availability(
        session, window_id=WINDOW, weekdays=range(7), start="10:00", end="11:00",
        slot_minutes=60, capacity=1, mode="電話", now=now, valid_from=now.date(),
        valid_until=date(2028, 3, 2), skip_holidays=False,
    )
    bookings.generate_slots(session, now=now, until=date(2028, 3, 10))
    days = _days(session)
    assert days == [date(2028, 2, 25) + timedelta(days=i) for i in range(7)]
    assert date(2028, 2, 29) in days and days[-1] == date(2028, 3, 2)
    leap = session.scalars(select(Slot).where(Slot.starts_at == tokyo(2028, 2, 29, 10))).one()
    assert leap.ends_at == tokyo(2028, 2, 29, 11) and leap.mode == "phone"


def test_tuesday_only_pattern_lands_on_the_leap_day_tuesday(session):
    now = tokyo(2028, 2, 21, 8)
    weekday_availability(session, weekdays=(1,), valid_from=now.date(), now=now)
    bookings.generate_slots(session, now=now, until=date(2028, 3, 14))
    assert _days(session) == [date(2028, 2, 22), date(2028, 2, 29), date(2028, 3, 7),
                              date(2028, 3, 14)]


@pytest.mark.parametrize("kwargs, code", [
    ({"start": "16:00", "end": "10:00"}, "bad_hours"),
    ({"weekdays": (7,)}, "bad_weekdays"),
    ({"minutes": 0}, "bad_size"),
    ({"capacity": 0}, "bad_size"),
])
def test_invalid_availability_is_refused(session, kwargs, code):
    with pytest.raises(BookingError) as refused:
        weekday_availability(session, **kwargs)
    assert refused.value.code == code


def test_unknown_mode_is_refused(session):
    with pytest.raises(BookingError) as refused:
        bookings.add_availability(
            session, window_id=WINDOW, weekdays=[0], start="10:00", end="11:00",
            slot_minutes=30, capacity=1, mode="テレパシー", now=NOW, valid_from=NOW.date(),
        )
    assert refused.value.code == "bad_mode"


def test_the_horizon_sweep_keeps_three_weeks_published(svc):
    from scheduler.jobs.reminders import extend_slots
    from storage.db import transaction

    with transaction(svc.factory) as s:
        weekday_availability(s)
    # the rest of Wed 6/2, then 15 weekdays from Thu 6/3 to Wed 6/23, 8 slots each
    assert extend_slots(svc.factory, NOW, days=21) == 7 + 15 * 8
    assert extend_slots(svc.factory, NOW, days=21) == 0
    assert extend_slots(svc.factory, NOW + timedelta(days=1), days=21) == 8  # one more day
