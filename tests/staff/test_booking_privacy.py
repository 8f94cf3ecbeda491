"""Bookings in the console: nicknames only after an audited reveal; the calendar feed's
secret URL is https behind the proxy, stays out of logs, and odd tokens are a plain 404."""

from __future__ import annotations

import io
import logging
import re
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.gunicorn_conf import RedactingLogger
from bot.observability import configure_json_logging
from storage import bookings
from storage.db import transaction
from storage.models import AuditEntry, utcnow
from tests.booking.conftest import add_resident, add_slot
from tests.staff.conftest import add_staff, post_form, signed_in

TOKYO = bookings.TOKYO
FEED = re.compile(r"(https?://[^<\s]+/staff/bookings/feed/east_center/([A-Za-z0-9_-]+)\.ics)")


@pytest.fixture
def booked(svc):
    """やまだ booked tomorrow 10:00 (Tokyo) at the east centre."""
    now = utcnow()
    start = (now.astimezone(TOKYO) + timedelta(days=1)).replace(hour=10, minute=0, second=0,
                                                                microsecond=0)
    with transaction(svc.factory) as s:
        slot = add_slot(s, start, capacity=2, now=now)
        resident = add_resident(s, now=now)
        bookings.book(s, slot_id=slot.id, resident=resident, now=now,
                      details=bookings.BookingDetails(nickname="やまだ"))
        return SimpleNamespace(alias=resident.alias, day=start.date().isoformat())


def _audit(svc, action: str) -> list[AuditEntry]:
    with svc.factory() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_nicknames_on_the_day_view_need_an_audited_reveal(app, svc, booked):
    add_staff(svc, "sato")
    staff = signed_in(app, "sato")
    day = f"/staff/bookings/east_center/{booked.day}"
    page = staff.get(day).get_data(as_text=True)
    assert booked.alias in page and "やまだ" not in page and "［お名前］" in page
    assert _audit(svc, "reveal_pii") == []
    assert post_form(staff, f"{day}/reveal", token_from=day).status_code == 302
    [reveal] = _audit(svc, "reveal_pii")
    assert reveal.staff_id is not None and "east_center" in reveal.detail
    assert "やまだ" in staff.get(day).get_data(as_text=True)
    assert len(_audit(svc, "view_booking_names")) == 1  # each look while shown is recorded
    post_form(staff, f"{day}/hide", token_from=day)
    assert "やまだ" not in staff.get(day).get_data(as_text=True)
    other = signed_in(app, "sato")  # a reveal belongs to one session
    assert "やまだ" not in other.get(day).get_data(as_text=True)


def _feed_url(client, day: str) -> str:
    page = client.get(f"/staff/bookings/east_center/{day}").get_data(as_text=True)
    match = FEED.search(page)
    assert match, "no feed URL on the day page"
    return match.group(1)


def test_behind_the_proxy_the_feed_url_is_https(make_app, svc, booked):
    app = make_app(trusted_proxy_count=1)
    add_staff(svc, "sato")
    # Over https Flask-WTF also checks that a form came from our own pages (the Referer).
    staff = signed_in(app, "sato", HTTP_X_FORWARDED_FOR="198.51.100.7",
                      HTTP_X_FORWARDED_PROTO="https", HTTP_REFERER="https://localhost/staff")
    assert _feed_url(staff, booked.day).startswith("https://localhost/staff/bookings/feed/")


def test_a_forged_forwarded_proto_is_ignored_without_a_trusted_proxy(make_app, svc, booked):
    app = make_app(trusted_proxy_count=0)
    add_staff(svc, "sato")
    staff = signed_in(app, "sato", HTTP_X_FORWARDED_PROTO="https")
    assert _feed_url(staff, booked.day).startswith("http://localhost/")


def test_public_base_url_names_the_feed_when_set(make_app, svc, booked):
    app = make_app(public_base_url="https://madoguchi.city.zushi.example")
    add_staff(svc, "sato")
    url = _feed_url(signed_in(app, "sato"), booked.day)
    assert url.startswith("https://madoguchi.city.zushi.example/staff/bookings/feed/")


@pytest.mark.parametrize("token", ["トークン", "%E3%83%88", "a" * 200, "abc", "x.y"])
def test_a_malformed_feed_token_is_a_404_not_an_error(client, token):
    assert client.get(f"/staff/bookings/feed/east_center/{token}.ics").status_code == 404


@pytest.fixture
def captured_logs():
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    configure_json_logging("INFO", stream)
    yield stream
    root.setLevel(saved_level)
    root.handlers[:] = saved_handlers


def test_the_feed_token_stays_out_of_the_logs(app, svc, booked, captured_logs):
    add_staff(svc, "sato")
    url = _feed_url(signed_in(app, "sato"), booked.day)
    token = FEED.search(url).group(2)
    path = url.split("localhost", 1)[1]
    server = make_server("127.0.0.1", 0, app, threaded=True)  # as in `make run`
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(base + path, timeout=10) as answer:
            assert answer.status == 200 and booked.alias in answer.read().decode()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + path.replace(token, token[:-1] + "x"), timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    logged = captured_logs.getvalue()
    assert "/staff/bookings/feed/east_center/[token].ics" in logged  # the request is logged…
    assert token not in logged and token[:-1] not in logged  # …without its secret


def test_gunicorn_access_logs_mask_the_feed_token_too():
    from gunicorn.config import Config

    logger = RedactingLogger(Config())
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/staff/bookings/feed/east_center/S3cr3t.ics",
               "PATH_INFO": "/staff/bookings/feed/east_center/S3cr3t.ics",
               "SERVER_PROTOCOL": "HTTP/1.1", "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1"}
    atoms = logger.atoms(SimpleNamespace(status="200 OK", sent=10, headers=[]), [], environ,
                         timedelta(milliseconds=3))
    assert "S3cr3t" not in atoms["r"] and "S3cr3t" not in atoms["U"]
    assert atoms["U"] == "/staff/bookings/feed/east_center/[token].ics"
