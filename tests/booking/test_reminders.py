"""Reminders: the day before at 18:00 and an hour before; once, durable, never if cancelled."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from bot.services import build_services
from handlers.flows.booking import cancel_slot_and_notify
from scheduler.jobs.reminders import send_due_reminders
from storage import bookings
from storage.bookings import ReminderTimes
from storage.db import transaction
from storage.models import Outbox, Resident
from storage.models.booking import Booking
from tests.booking.conftest import NOW, add_slot, tokyo
from tests.conftest import line_event, make_config, post_events

USER = "U6666666666666666666666666666666"
START = tokyo(2027, 6, 3, 10)  # tomorrow at 10:00


@pytest.fixture
def booked(svc, client, worker, clock, fake_line) -> int:
    """A resident on LINE with a booking for tomorrow 10:00, made now (6/2 10:00)."""
    clock.now = NOW
    post_events(client, line_event("text", user=USER, text="こんにちは"))
    worker.drain()
    fake_line.reset()
    with transaction(svc.factory) as s:
        slot = add_slot(s, START)
        resident = s.scalars(select(Resident)).one()
        return bookings.book(s, slot_id=slot.id, resident=resident, now=NOW).id


def _pending(svc) -> int:
    with svc.factory() as s:
        return s.scalar(select(func.count()).select_from(Outbox).where(
            Outbox.status == "pending"))


def test_day_before_at_18_then_an_hour_before_each_once(svc, booked, worker, clock, fake_line):
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 17, 59)) == 0
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 18, 0)) == 1
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 18, 1)) == 0
    clock.now = tokyo(2027, 6, 2, 18, 0)
    worker.deliver()
    [evening] = fake_line.calls
    assert evening.kind == "push" and evening.to == USER
    assert "明日 10:00から" in evening.texts[0]
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 8, 59)) == 0
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 9, 0)) == 1
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 9, 30)) == 0
    clock.now = tokyo(2027, 6, 3, 9, 0)
    worker.deliver()
    assert "本日 10:00から" in fake_line.calls[-1].texts[0]
    assert len(fake_line.calls) == 2


def test_times_are_configurable(svc, booked):
    times = bookings.reminder_times({"BOOKING_REMINDER_DAY_BEFORE": "12:30",
                                     "BOOKING_REMINDER_BEFORE_MINUTES": "120"})
    assert times == ReminderTimes(day_before_at=time(12, 30), before=timedelta(hours=2))
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 12, 29), times) == 0
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 12, 30), times) == 1
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 8, 0), times) == 1


def test_no_reminder_for_a_cancelled_booking(svc, booked):
    with transaction(svc.factory) as s:
        bookings.cancel_booking(s, s.get(Booking, booked), now=NOW, by="resident")
    for at in (tokyo(2027, 6, 2, 18), tokyo(2027, 6, 3, 9)):
        assert send_due_reminders(svc.factory, at) == 0
    assert _pending(svc) == 0


def test_a_reminder_missed_while_the_scheduler_was_down_is_sent_once_on_return(svc, booked):
    # Down from 17:00 until 09:10 the next morning: both reminders fell due meanwhile.
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 17)) == 0
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 9, 10)) == 1
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 9, 20)) == 0
    with svc.factory() as s:
        booking = s.get(Booking, booked)
        assert booking.reminder_hour_before_sent_at is not None
    assert _pending(svc) == 1


def test_missed_evening_reminder_still_goes_out_in_the_morning(svc, booked):
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 7)) == 1
    with svc.factory() as s:
        assert s.get(Booking, booked).reminder_day_before_sent_at is not None


def test_nothing_is_sent_once_the_appointment_has_started(svc, booked):
    assert send_due_reminders(svc.factory, START + timedelta(minutes=1)) == 0


def test_restart_between_scheduling_and_firing_sends_exactly_once(svc, booked, database,
                                                                  fake_line):
    before = send_due_reminders(svc.factory, tokyo(2027, 6, 2, 17, 30))
    # The process dies; a new one builds its own services on the same database.
    restarted = build_services(make_config(fake_line.url), engine=database.engine)
    due = tokyo(2027, 6, 2, 18, 5)
    assert before == 0
    assert send_due_reminders(restarted.factory, due) == 1
    # The old instance, still running somewhere, comes back too late to send again.
    assert send_due_reminders(svc.factory, due + timedelta(minutes=1)) == 0
    assert _pending(svc) == 1


def test_a_booking_made_after_the_evening_reminder_time_gets_only_the_hour_before(svc, client,
                                                                                  worker, clock):
    clock.now = NOW
    post_events(client, line_event("text", user=USER, text="こんにちは"))
    worker.drain()
    made = tokyo(2027, 6, 2, 20)
    with transaction(svc.factory) as s:
        slot = add_slot(s, START, now=made)
        resident = s.scalars(select(Resident)).one()
        bookings.book(s, slot_id=slot.id, resident=resident, now=made)
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 20, 1)) == 0
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 3, 9)) == 1


def test_the_scheduler_loads_both_booking_sweeps(database):
    from scheduler.runner import build_scheduler, load_jobs

    load_jobs()
    jobs = {job.id: job for job in build_scheduler(database.engine).get_jobs()}
    assert jobs["booking_reminders"].func_ref == "scheduler.jobs.reminders:reminder_sweep"
    assert jobs["booking_slot_horizon"].func_ref == "scheduler.jobs.reminders:horizon_sweep"


def test_staff_cancelling_a_slot_tells_the_booked_resident(svc, booked, worker, clock, fake_line):
    with transaction(svc.factory) as s:
        slot_id = s.get(Booking, booked).slot_id
        told = cancel_slot_and_notify(s, slot_id, reason="職員研修", now=NOW)
    assert told == 1
    worker.deliver()
    [call] = fake_line.calls
    assert call.to == USER and "取りやめ" in call.texts[0] and "6月3日(木) 10:00" in call.texts[0]
    items = call.messages[0]["quickReply"]["items"]
    assert items[0]["action"]["data"] == "booking:win:east_center"
    assert send_due_reminders(svc.factory, tokyo(2027, 6, 2, 18)) == 0
