"""Schedules in Asia/Tokyo: the next slot, quiet hours, and what a late sweep still owes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import checkins as store
from storage.models import CheckinEnrolment
from tests.checkins.conftest import tokyo

QUIET = store.QuietHours(time(21, 0), time(8, 0))


def test_weekly_slot_is_the_next_chosen_weekday_at_the_tokyo_time():
    schedule = store.Schedule.weekly([0, 3], time(10, 0))  # Monday and Thursday 10:00
    assert schedule.next_after(tokyo(2, 8)) == tokyo(2, 10)
    assert schedule.next_after(tokyo(2, 10)) == tokyo(5, 10)  # strictly after
    assert schedule.next_after(tokyo(5, 10, 1)) == tokyo(9, 10)


def test_slots_are_stored_in_utc_and_tokyo_midnight_is_the_previous_utc_day():
    schedule = store.Schedule.weekly([1], time(7, 30))  # Tuesday 07:30 JST
    slot = schedule.next_after(tokyo(2, 12))
    assert slot.tzinfo == UTC
    assert slot == datetime(2025, 6, 2, 22, 30, tzinfo=UTC)  # Monday 22:30 UTC


def test_every_n_days_counts_from_the_start_date():
    schedule = store.Schedule.every(3, time(9, 0), start=date(2025, 6, 3))
    assert schedule.next_after(tokyo(1, 0)) == tokyo(3, 9)
    assert schedule.next_after(tokyo(3, 9)) == tokyo(6, 9)


@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31),
                    timezones=st.just(UTC)),
       st.sets(st.integers(0, 6), min_size=1), st.integers(0, 23), st.integers(0, 59))
def test_every_slot_is_after_the_moment_on_a_chosen_day_within_a_week(moment, days, hour, minute):
    schedule = store.Schedule.weekly(sorted(days), time(hour, minute))
    slot = schedule.next_after(moment)
    local = slot.astimezone(store.TOKYO)
    assert moment < slot <= moment + timedelta(days=7)
    assert local.weekday() in days and (local.hour, local.minute) == (hour, minute)


def test_asia_tokyo_has_no_dst_so_every_daily_slot_is_24_hours_apart():
    schedule = store.Schedule.weekly(range(7), time(2, 30))
    slot = schedule.next_after(datetime(2025, 3, 1, tzinfo=UTC))
    for _ in range(400):  # across the dates other zones change their clocks
        following = schedule.next_after(slot)
        assert following - slot == timedelta(hours=24)
        slot = following


def test_quiet_hours_wrap_midnight_and_shift_to_their_end():
    assert QUIET.contains(tokyo(2, 22)) and QUIET.contains(tokyo(3, 7, 59))
    assert not QUIET.contains(tokyo(3, 8)) and not QUIET.contains(tokyo(2, 20, 59))
    assert QUIET.shift(tokyo(2, 22)) == tokyo(3, 8)
    assert QUIET.shift(tokyo(3, 6)) == tokyo(3, 8)
    assert QUIET.shift(tokyo(3, 12)) == tokyo(3, 12)


def test_the_ladder_must_fit_within_a_day():
    with pytest.raises(store.CheckinError):
        store.Ladder(timedelta(hours=20), timedelta(hours=5))
    with pytest.raises(store.CheckinError):
        store.Ladder(timedelta(hours=1), timedelta(0))


def _enrolment(at: str = "10:00", weekdays=(0, 3), quiet=("21:00", "08:00")) -> CheckinEnrolment:
    enrolment = CheckinEnrolment(
        schedule_kind="weekly", weekdays=list(weekdays), at_time=at,
        quiet_start=quiet[0], quiet_end=quiet[1], remind_after_minutes=180,
        escalate_after_minutes=180,
    )
    store._reschedule(enrolment, tokyo(2, 8))
    return enrolment


def test_a_sweep_on_time_sends_the_slot_and_moves_the_cursor():
    enrolment = _enrolment()
    plan = store.plan(enrolment, tokyo(2, 10, 0))
    assert plan.send_slot == tokyo(2, 10) and plan.missed == []
    assert enrolment.next_due_at == tokyo(5, 10)


def test_a_sweep_late_the_same_day_still_sends():
    enrolment = _enrolment()
    plan = store.plan(enrolment, tokyo(2, 16))
    assert plan.send_slot == tokyo(2, 10)


def test_a_sweep_the_next_day_records_the_slot_as_missed_instead_of_sending():
    enrolment = _enrolment()
    plan = store.plan(enrolment, tokyo(3, 12))
    assert plan.send_slot is None and plan.missed == [tokyo(2, 10)]
    assert enrolment.next_due_at == tokyo(5, 10)


def test_after_a_long_outage_only_the_newest_meaningful_slot_is_sent():
    enrolment = _enrolment()
    plan = store.plan(enrolment, tokyo(9, 11))  # down from Monday to the next Monday
    assert plan.send_slot == tokyo(9, 10)
    assert plan.missed == [tokyo(2, 10), tokyo(5, 10)]


def test_a_late_evening_slot_is_still_sent_just_after_midnight_within_the_grace():
    enrolment = _enrolment(at="20:30", quiet=("23:00", "06:00"))
    plan = store.plan(enrolment, tokyo(2, 21, 15))
    assert plan.send_slot == tokyo(2, 20, 30)


def test_a_sweep_that_runs_late_into_quiet_hours_waits_for_the_morning():
    enrolment = _enrolment(at="20:00")
    plan = store.plan(enrolment, tokyo(2, 21, 10))
    assert plan.send_slot is None and plan.wait_until == tokyo(3, 8)
    assert enrolment.next_due_at == tokyo(2, 20)  # the slot is still owed, judged again then


def test_occurrence_keys_are_stable_uuids_per_slot_and_step():
    key = store.occurrence_key(7, tokyo(2, 10))
    assert key == store.occurrence_key(7, tokyo(2, 10).astimezone(UTC))
    assert key != store.occurrence_key(7, tokyo(5, 10))
    assert key != store.occurrence_key(7, tokyo(2, 10), "reminder")
    assert len(key) == 36
