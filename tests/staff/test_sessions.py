"""Console sessions end: at logout (every copy of the cookie), 8 hours after signing in,
after a spell of doing nothing; and the CSRF token of a page left open expires."""

from __future__ import annotations

import time
from datetime import timedelta

import itsdangerous

from storage.models import utcnow
from tests.staff.conftest import (
    add_staff,
    audit_actions,
    csrf_token,
    login,
    open_case_for,
    post_form,
    signed_in,
)

RESIDENT = "U" + "7" * 32


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_copied_before_logout_opens_nothing_afterwards(app, client, svc):
    add_staff(svc, "sato")
    case_id = open_case_for(svc, RESIDENT, "母の介護の相談です")
    login(client, "sato")
    thief = app.test_client()
    thief.set_cookie("session", _cookie(client))
    assert thief.get(f"/staff/cases/{case_id}").status_code == 200  # the copy works…
    assert post_form(client, "/staff/logout").status_code == 302
    response = thief.get(f"/staff/cases/{case_id}")  # …until its owner logs out
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert thief.get(f"/staff/cases/{case_id}/messages",
                     headers={"X-Requested-With": "fetch"}).status_code == 401


def test_logging_out_on_one_computer_ends_the_session_on_the_others(app, svc):
    add_staff(svc, "sato")
    office, home = signed_in(app, "sato"), signed_in(app, "sato")
    post_form(home, "/staff/logout")
    assert office.get("/staff").status_code == 302
    assert signed_in(app, "sato").get("/staff").status_code == 200  # signing in again works


def test_sessions_last_eight_hours_from_sign_in(app, client, svc):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    add_staff(svc, "sato")
    response = login(client, "sato")
    expires = client.get_cookie("session").expires
    assert expires is not None
    assert timedelta(hours=7, minutes=59) < expires - utcnow() <= timedelta(hours=8)
    assert "Expires=" in response.headers["Set-Cookie"]
    now = time.time()
    with client.session_transaction() as session:
        session["signed_in_at"] = now - 8 * 3600 + 60  # a minute left, and busy throughout
        session["seen_at"] = now
    assert client.get("/staff").status_code == 200
    with client.session_transaction() as session:
        session["signed_in_at"] = now - 8 * 3600 - 1
    response = client.get("/staff")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert "session_expired" in audit_actions(svc)
    assert client.get("/staff").status_code == 302  # and it stays ended


def test_a_session_left_idle_for_thirty_minutes_ends(client, svc):
    add_staff(svc, "sato")
    login(client, "sato")
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 29 * 60
    assert client.get("/staff").status_code == 200  # …and that request counts as activity
    with client.session_transaction() as session:
        assert session["seen_at"] >= time.time() - 5
        session["seen_at"] = time.time() - 31 * 60
    response = client.get("/staff")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "一定時間が過ぎたため、ログアウトしました" in page


def test_the_idle_limit_is_a_setting(make_app, svc):
    app = make_app(staff_idle_minutes=5)
    add_staff(svc, "sato")
    client = signed_in(app, "sato")
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - 6 * 60
    assert client.get("/staff").status_code == 302


def test_the_case_page_polling_alone_does_not_keep_a_session_alive(client, svc):
    add_staff(svc, "sato")
    case_id = open_case_for(svc, RESIDENT, "母の介護の相談です")
    login(client, "sato")
    twenty_minutes_ago = time.time() - 20 * 60
    with client.session_transaction() as session:
        session["seen_at"] = twenty_minutes_ago
    poll = f"/staff/cases/{case_id}/messages?after=0"
    assert client.get(poll, headers={"X-Requested-With": "fetch",
                                     "X-Staff-Active": "0"}).status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] == twenty_minutes_ago
    client.get(poll, headers={"X-Requested-With": "fetch", "X-Staff-Active": "1"})
    with client.session_transaction() as session:  # the person typed or clicked meanwhile
        assert session["seen_at"] > twenty_minutes_ago + 19 * 60


class _SignedAnHourAgo(itsdangerous.TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 61 * 60


def token_from_a_page_rendered_61_minutes_ago(app, client) -> str:
    """What Flask-WTF put in a form 61 minutes ago: this session's token, signed then."""
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    serializer = itsdangerous.URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt="wtf-csrf-token", signer=_SignedAnHourAgo)
    return serializer.dumps(raw)


def test_a_csrf_token_older_than_an_hour_is_refused(app, client, svc):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 3600
    add_staff(svc, "sato")
    case_id = open_case_for(svc, RESIDENT, "母の介護の相談です")
    login(client, "sato")
    fresh = csrf_token(client, "/staff")
    old = token_from_a_page_rendered_61_minutes_ago(app, client)
    response = client.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": old})
    assert response.status_code == 400
    assert "ページの有効期限が切れた" in response.get_data(as_text=True)
    assert "claim" not in audit_actions(svc, case_id)
    assert client.post(f"/staff/cases/{case_id}/claim",
                       data={"csrf_token": fresh}).status_code == 302
    assert "claim" in audit_actions(svc, case_id)
