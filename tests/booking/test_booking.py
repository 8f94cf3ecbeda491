"""Booking rules in storage: capacity under concurrency, limits, cancel, move, attendance."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage import bookings
from storage.bookings import BookingDetails, BookingError
from storage.cases import open_case
from storage.db import transaction
from storage.models import Case, Resident
from storage.models.booking import Booking, Slot
from tests.booking.conftest import NOW, add_resident, add_slot, tokyo

TOMORROW_10 = tokyo(2027, 6, 3, 10)


def _book(session, slot, resident, **kw):
    return bookings.book(session, slot_id=slot.id, resident=resident, now=NOW, **kw)


def test_a_booking_takes_a_seat_and_keeps_the_details_encrypted_at_rest(session):
    slot = add_slot(session, TOMORROW_10, capacity=2)
    resident = add_resident(session)
    booking = _book(session, slot, resident,
                    details=BookingDetails(nickname="Y.T", callback="phone",
                                           contact_phone="090-1234-5678"))
    session.refresh(slot)
    assert slot.booked == 1 and booking.status == "booked"
    assert booking.starts_at == TOMORROW_10 and booking.resident_alias == resident.alias
    raw = session.connection().exec_driver_sql(
        "SELECT nickname, contact_phone FROM bookings").one()
    assert b"Y.T" not in bytes(raw[0]) and b"090" not in bytes(raw[1])


def test_a_full_slot_refuses_the_next_resident(session):
    slot = add_slot(session, TOMORROW_10, capacity=1)
    _book(session, slot, add_resident(session))
    with pytest.raises(BookingError) as refused:
        _book(session, slot, add_resident(session))
    assert refused.value.code == "full"
    assert session.scalar(select(func.count()).select_from(Booking)) == 1


def test_the_same_resident_cannot_hold_a_slot_twice(session):
    slot = add_slot(session, TOMORROW_10, capacity=3)
    resident = add_resident(session)
    _book(session, slot, resident)
    with pytest.raises(BookingError) as refused:
        _book(session, slot, resident)
    assert refused.value.code == "duplicate"
    session.refresh(slot)
    assert slot.booked == 1


def test_the_unique_index_stops_a_second_active_row_even_past_the_checks(session):
    slot = add_slot(session, TOMORROW_10, capacity=3)
    resident = add_resident(session)
    _book(session, slot, resident)
    # Bypass book()'s friendly pre-check: the database itself must refuse.
    with pytest.raises(BookingError) as refused:
        bookings._take_seat(session, slot, resident, NOW, BookingDetails())
    assert refused.value.code == "duplicate"
    session.refresh(slot)
    assert slot.booked == 1  # the savepoint took the seat back


def test_past_or_too_soon_slots_cannot_be_booked(session):
    past = add_slot(session, NOW - timedelta(hours=1))
    soon = add_slot(session, NOW + timedelta(minutes=10))
    resident = add_resident(session)
    for slot in (past, soon):
        with pytest.raises(BookingError) as refused:
            _book(session, slot, resident, lead=timedelta(minutes=30))
        assert refused.value.code == "past"


def test_at_most_two_future_bookings_per_resident(session):
    resident = add_resident(session)
    for day in (3, 4):
        _book(session, add_slot(session, tokyo(2027, 6, day, 10)), resident)
    with pytest.raises(BookingError) as refused:
        _book(session, add_slot(session, tokyo(2027, 6, 7, 10)), resident)
    assert refused.value.code == "limit"


def test_cancelling_gives_the_seat_back_and_allows_rebooking(session):
    slot = add_slot(session, TOMORROW_10, capacity=1)
    resident = add_resident(session)
    booking = _book(session, slot, resident)
    assert bookings.cancel_booking(session, booking, now=NOW, by="resident")
    assert not bookings.cancel_booking(session, booking, now=NOW, by="resident")
    session.refresh(slot)
    assert slot.booked == 0
    again = _book(session, slot, resident)  # the unique index ignores cancelled rows
    assert again.id != booking.id


def test_moving_a_booking_swaps_seats_in_one_step(session):
    resident = add_resident(session)
    first = add_slot(session, TOMORROW_10)
    second = add_slot(session, tokyo(2027, 6, 4, 10))
    _book(session, add_slot(session, tokyo(2027, 6, 8, 10)), resident)  # at the limit now
    old = _book(session, first, resident)
    new = _book(session, second, resident, moving=old)
    session.refresh(old)
    session.refresh(first)
    session.refresh(second)
    assert old.status == "cancelled" and old.cancel_reason == "moved"
    assert new.moved_from_id == old.id and first.booked == 0 and second.booked == 1


def test_a_booking_by_a_resident_with_an_open_case_is_linked_to_it(session):
    resident = add_resident(session)
    case = open_case(session, resident, reason="human", priority="normal", now=NOW)
    booking = _book(session, add_slot(session, TOMORROW_10), resident)
    assert session.get(Case, case.id).booking_id == booking.id and booking.case_id == case.id


def test_staff_cancelling_a_slot_cancels_its_bookings(session):
    slot = add_slot(session, TOMORROW_10, capacity=2)
    a, b = add_resident(session), add_resident(session)
    _book(session, slot, a)
    _book(session, slot, b)
    cancelled = bookings.cancel_slot(session, slot.id, now=NOW, reason="職員の研修")
    assert {x.resident_id for x in cancelled} == {a.id, b.id}
    assert all(x.status == "cancelled" and x.cancelled_by == "staff" for x in cancelled)
    with pytest.raises(BookingError) as refused:
        _book(session, slot, add_resident(session))
    assert refused.value.code == "closed"


def test_attendance_is_recorded_from_an_hour_before_and_not_for_cancelled(session):
    slot = add_slot(session, TOMORROW_10, capacity=2)
    booking = _book(session, slot, add_resident(session))
    with pytest.raises(BookingError) as early:
        bookings.record_attendance(session, booking.id, attended=True, staff_id=None, now=NOW)
    assert early.value.code == "too_early"
    at = TOMORROW_10 + timedelta(minutes=5)
    assert bookings.record_attendance(
        session, booking.id, attended=False, staff_id=None, now=at).status == "no_show"
    assert bookings.record_attendance(
        session, booking.id, attended=True, staff_id=None, now=at).status == "attended"
    other = _book(session, slot, add_resident(session))
    bookings.cancel_booking(session, other, now=NOW, by="resident")
    with pytest.raises(BookingError):
        bookings.record_attendance(session, other.id, attended=True, staff_id=None, now=at)


def test_nearest_slots_prefers_the_wished_range_then_the_closest(session):
    for hour in (10, 13, 15):
        add_slot(session, tokyo(2027, 6, 8, hour))
    add_slot(session, tokyo(2027, 6, 10, 13))
    afternoon = [(tokyo(2027, 6, 8, 12), tokyo(2027, 6, 8, 17))]
    slots, exact = bookings.nearest_slots(session, "east_center", afternoon, after=NOW)
    assert exact and [s.starts_at.hour for s in slots] == [4, 6]  # 13:00, 15:00 JST in UTC
    evening = [(tokyo(2027, 6, 9, 18), tokyo(2027, 6, 9, 19))]
    slots, exact = bookings.nearest_slots(session, "east_center", evening, after=NOW, limit=2)
    assert not exact
    assert [s.starts_at for s in slots] == [tokyo(2027, 6, 8, 15), tokyo(2027, 6, 10, 13)]


def _residents_and_slot(svc, count: int, capacity: int) -> tuple[int, list[int]]:
    with transaction(svc.factory) as s:
        slot = add_slot(s, TOMORROW_10, capacity=capacity)
        ids = [add_resident(s).id for _ in range(count)]
        return slot.id, ids


def _race(svc, slot_id: int, resident_ids: list[int]) -> list[str]:
    """Every attempt in its own thread and session, released at the same moment."""
    outcomes: list[str] = []
    lock = threading.Lock()
    gate = threading.Barrier(len(resident_ids))

    def attempt(resident_id: int) -> None:
        gate.wait()
        try:
            with transaction(svc.factory) as s:
                resident = s.get(Resident, resident_id)
                bookings.book(s, slot_id=slot_id, resident=resident, now=NOW)
            result = "booked"
        except BookingError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(rid,)) for rid in resident_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_100_simultaneous_attempts_at_a_capacity_1_slot_make_exactly_one_booking(svc):
    slot_id, residents = _residents_and_slot(svc, 100, capacity=1)
    outcomes = _race(svc, slot_id, residents)
    assert outcomes.count("booked") == 1 and outcomes.count("full") == 99
    with svc.factory() as s:
        assert s.get(Slot, slot_id).booked == 1
        assert s.scalar(select(func.count()).select_from(Booking)) == 1


def test_simultaneous_double_taps_by_one_resident_make_one_booking(svc):
    slot_id, [resident] = _residents_and_slot(svc, 1, capacity=5)
    outcomes = _race(svc, slot_id, [resident] * 20)
    assert outcomes.count("booked") == 1 and set(outcomes) <= {"booked", "duplicate"}
    with svc.factory() as s:
        assert s.get(Slot, slot_id).booked == 1
