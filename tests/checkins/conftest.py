"""Check-in fixtures: a resident who follows the LINE account, and the sweep on the test clock."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest

from common.clock import TOKYO
from scheduler.jobs.checkins import SweepResult, run_sweep
from storage import checkins as store
from storage import crypto, residents
from storage.db import transaction
from storage.models import CheckinEnrolment, Resident
from tests.conftest import Clock

USER = "U5555555555555555555555555555555"
MONDAY_8AM = datetime(2025, 6, 2, 8, 0, tzinfo=TOKYO)  # a Monday, Asia/Tokyo (no DST)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_8AM)


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    """A June 2025 date-time in Asia/Tokyo (2 June is a Monday)."""
    return datetime(2025, 6, day, hour, minute, tzinfo=TOKYO)


def make_resident(svc: Any, clock: Clock, user: str = USER) -> int:
    with transaction(svc.factory) as session:
        resident = residents.get_or_create(
            session, resident_key=crypto.resident_key("line", user), channel="line",
            user_id=user, now=clock(),
        )
        session.flush()
        return resident.id


def enrol(svc: Any, clock: Clock, resident_id: int, *, weekdays=(0, 3), at=time(10, 0),
          **kw: Any) -> int:
    with transaction(svc.factory) as session:
        resident = session.get(Resident, resident_id)
        enrolment = store.enrol(
            session, resident, store.Schedule.weekly(weekdays, at), consent_by="本人（面談）",
            consent_at=clock(), now=clock(), **kw,
        )
        return enrolment.id


def sweep(svc: Any, clock: Clock) -> SweepResult:
    return run_sweep(svc.factory, clock())


def get_enrolment(svc: Any, enrolment_id: int) -> CheckinEnrolment:
    with svc.factory() as session:
        return session.get(CheckinEnrolment, enrolment_id)
