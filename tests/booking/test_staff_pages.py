"""Staff side: booking pages behind sign-in, slot cancel with notice, attendance, feeds, CLI."""

from __future__ import annotations

import argparse
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from bot.cli import add_slots_arguments, cmd_slots
from storage import bookings
from storage.db import transaction
from storage.migrate import upgrade
from storage.models import AuditEntry, Outbox, utcnow
from storage.models.booking import Availability, Booking, ClosedDay, Slot
from storage.staff import create_staff
from tests.booking.conftest import add_resident, add_slot
from tests.conftest import make_config

TOKYO = bookings.TOKYO


@pytest.fixture
def staff(app, client, svc):
    app.config["WTF_CSRF_ENABLED"] = False
    with transaction(svc.factory) as s:
        create_staff(s, "hayashi", "correct-horse-battery", "coordinator")
    response = client.post("/staff/login", data={"username": "hayashi",
                                                 "password": "correct-horse-battery"})
    assert response.status_code == 302
    return client


@pytest.fixture
def booked(svc):
    """A real booking tomorrow 10:00 (Tokyo) at the east centre."""
    now = utcnow()
    start = (now.astimezone(TOKYO) + timedelta(days=1)).replace(hour=10, minute=0, second=0,
                                                                microsecond=0)
    with transaction(svc.factory) as s:
        slot = add_slot(s, start, capacity=2, now=now)
        resident = add_resident(s, now=now)
        booking = bookings.book(s, slot_id=slot.id, resident=resident, now=now,
                                details=bookings.BookingDetails(nickname="やまだ"))
        return {"slot": slot.id, "booking": booking.id, "alias": resident.alias,
                "day": start.date()}


def test_pages_need_sign_in_but_the_secret_feed_does_not(client, svc, booked):
    assert client.get("/staff/bookings").status_code == 302
    assert client.get("/staff/bookings/east_center/calendar.ics").status_code == 302
    with transaction(svc.factory) as s:
        token = bookings.feed_token(s, "east_center", utcnow())
    assert client.get("/staff/bookings/feed/east_center/wrong-token.ics").status_code == 404
    assert client.get(f"/staff/bookings/feed/west_center/{token}.ics").status_code == 404
    response = client.get(f"/staff/bookings/feed/east_center/{token}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    [event] = Calendar.from_ical(response.data).walk("VEVENT")
    assert booked["alias"] in str(event["SUMMARY"]) and "来所" in str(event["SUMMARY"])
    assert "やまだ" not in response.data.decode()  # nicknames stay in the console
    assert event.decoded("DTSTART").hour == 10


def test_rotating_the_feed_token_revokes_the_old_url(staff, svc):
    with transaction(svc.factory) as s:
        old = bookings.feed_token(s, "east_center", utcnow())
    staff.post("/staff/bookings/east_center/feed/rotate")
    assert staff.get(f"/staff/bookings/feed/east_center/{old}.ics").status_code == 404


def test_day_view_lists_bookings_by_alias(staff, booked):
    page = staff.get(f"/staff/bookings/east_center/{booked['day'].isoformat()}")
    assert page.status_code == 200
    html = page.data.decode()
    assert booked["alias"] in html and "10:00〜10:45" in html and "1 / 2" in html
    assert staff.get("/staff/bookings").status_code == 200
    assert staff.get("/staff/bookings/nowhere").status_code == 404


def test_staff_cancel_a_slot_and_the_resident_is_told(staff, svc, booked):
    response = staff.post(f"/staff/bookings/east_center/slots/{booked['slot']}/cancel",
                          data={"reason": "職員研修"})
    assert response.status_code == 302
    with svc.factory() as s:
        assert s.get(Booking, booked["booking"]).status == "cancelled"
        assert s.get(Slot, booked["slot"]).status == "cancelled"
        [send] = s.scalars(select(Outbox)).all()
        assert "取りやめ" in send.messages[0]["text"]
        actions = s.scalars(select(AuditEntry.action)).all()
    assert "booking_cancel_slot" in actions  # the city can account for who cancelled it


def test_attendance_is_recorded_once_the_appointment_is_near(staff, svc, booked):
    staff.post(f"/staff/bookings/east_center/bookings/{booked['booking']}/attendance",
               data={"result": "attended"})
    with svc.factory() as s:  # tomorrow is too early
        assert s.get(Booking, booked["booking"]).status == "booked"
    with transaction(svc.factory) as s:
        booking = s.get(Booking, booked["booking"])
        bookings.record_attendance(s, booking.id, attended=False, staff_id=None,
                                   now=booking.starts_at)
        assert booking.status == "no_show"


def test_staff_add_availability_and_a_closed_day_from_the_console(staff, svc):
    tomorrow = utcnow().astimezone(TOKYO).date() + timedelta(days=1)
    staff.post("/staff/bookings/central_center/availability", data={
        "weekdays": ["0", "1", "2", "3", "4", "5", "6"], "start": "10:00", "end": "12:00",
        "minutes": "60", "capacity": "1", "mode": "online", "valid_from": tomorrow.isoformat(),
    })
    staff.post("/staff/bookings/central_center/closed", data={"day": tomorrow.isoformat(),
                                                              "reason": "研修"})
    with svc.factory() as s:
        assert s.scalars(select(Availability.mode)).all() == ["online"]
        assert s.scalars(select(ClosedDay.reason)).all() == ["研修"]
        open_tomorrow = [x for x in bookings.slots_on(s, "central_center", tomorrow)
                         if x.status == "open"]
        assert open_tomorrow == []
        assert s.scalar(select(func.count()).select_from(Slot).where(
            Slot.status == "open")) > 0


def test_the_slots_command_adds_lists_and_closes(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    from storage.db import make_engine

    upgrade(make_engine(url))
    config = make_config("http://127.0.0.1:9", database_url=url)
    parser = argparse.ArgumentParser()
    add_slots_arguments(parser)

    def run(*argv: str) -> str:
        cmd_slots(config, parser.parse_args(list(argv)))
        return capsys.readouterr().out

    assert "slots published" in run("add", "--window", "west_center", "--weekdays", "0-4",
                                    "--start", "09:00", "--end", "10:30", "--minutes", "45",
                                    "--capacity", "2", "--mode", "訪問", "--days", "14")
    listing = run("list", "--window", "west_center", "--days", "14")
    assert "月火水木金 09:00-10:30 45min x2 訪問" in listing and "0/2 open" in listing
    day = date.fromisoformat(listing.split("slot ")[1].split()[1])
    assert "0 resident(s) notified" in run("close", "--window", "west_center",
                                           "--date", day.isoformat())
    assert f"closed {day.isoformat()}" in run("list", "--window", "west_center")
    with pytest.raises(SystemExit):
        run("add", "--window", "nowhere")
