"""Sign-in limits slow an attacker down without locking the city's coordinators out, and
every failed sign-in costs the same work, so timing tells nobody which usernames exist."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.staff.auth import Throttled, address_key, attempt_login
from storage.db import transaction
from storage.models import StaffUser, utcnow
from tests.staff.conftest import PASSWORD, add_staff, audit_actions, login

ATTACKER = "203.0.113.66"
COLLEAGUE = "198.51.100.7"


def test_twenty_bad_logins_with_forged_forwarded_for_do_not_lock_out_other_staff(
        make_app, svc):
    # Behind nginx every request arrives from 127.0.0.1; nginx appends the real client to
    # whatever X-Forwarded-For the client sent, and only that last entry is believed.
    app = make_app(trusted_proxy_count=1)
    add_staff(svc, "sato")
    attacker = app.test_client()
    statuses = []
    for i in range(22):
        attacker.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.9.{i}.1, {ATTACKER}"
        statuses.append(login(attacker, f"guess{i}", "wrong").status_code)
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429, 429]
    colleague = app.test_client()
    colleague.environ_base["HTTP_X_FORWARDED_FOR"] = COLLEAGUE
    assert login(colleague, "sato").status_code == 302
    assert colleague.get("/staff").status_code == 200


def test_without_a_trusted_proxy_forwarded_for_headers_are_not_believed(make_app, svc):
    app = make_app(trusted_proxy_count=0)
    add_staff(svc, "sato")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = ATTACKER
    for i in range(21):  # a new made-up address each time: still the same client
        attacker.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.9.{i}.1"
        login(attacker, f"guess{i}", "wrong")
    assert login(attacker, "sato").status_code == 429
    colleague = app.test_client()
    colleague.environ_base.update(REMOTE_ADDR=COLLEAGUE, HTTP_X_FORWARDED_FOR=ATTACKER)
    assert login(colleague, "sato").status_code == 302


def test_a_throttled_answer_says_when_to_try_again(client, svc):
    for i in range(20):
        login(client, f"guess{i}", "wrong")
    response = login(client, "nobody", "wrong")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 10


def test_an_address_backs_off_step_by_step_and_recovers(app, svc):
    add_staff(svc, "sato")
    start = utcnow()
    with app.test_request_context():
        here, there = address_key("203.0.113.1"), address_key("203.0.113.2")
        for i in range(20):
            assert attempt_login(f"guess{i}", "x", here, start + timedelta(seconds=i)) == "failed"
        last = start + timedelta(seconds=19)
        waited = attempt_login("sato", PASSWORD, here, last + timedelta(seconds=5))
        assert waited == Throttled(timedelta(seconds=5))  # 10 s after the 20th failure
        assert attempt_login("sato", PASSWORD, there, last + timedelta(seconds=5)).username == \
            "sato"  # another address is not held up at all
        assert attempt_login("guess", "x", here, last + timedelta(seconds=11)) == "failed"
        later = last + timedelta(seconds=11)
        assert isinstance(attempt_login("sato", PASSWORD, here, later + timedelta(seconds=19)),
                          Throttled)  # the next wait doubled, to 20 s
        user = attempt_login("sato", PASSWORD, here, later + timedelta(seconds=21))
        assert isinstance(user, StaffUser)


def test_an_address_never_waits_longer_than_fifteen_minutes(app, svc):
    from storage.models.handoff import LoginAttempt

    start = utcnow()
    with app.test_request_context():
        here = address_key("203.0.113.1")
        with transaction(svc.factory) as session:  # a long, patient attack: 60 failures
            for i in range(60):
                session.add(LoginAttempt(ip_key=here, created_at=start - timedelta(seconds=60 - i)))
        outcome = attempt_login("x", "x", here, start)
    assert outcome == Throttled(timedelta(minutes=15) - timedelta(seconds=1))


def test_an_account_backs_off_one_minute_then_two_after_five_failures_in_a_row(app, svc):
    add_staff(svc, "sato")
    start = utcnow()
    with app.test_request_context():
        for i in range(5):  # from five different addresses: the account still counts
            attempt_login("sato", "guess", address_key(f"10.0.0.{i}"), start)
        assert attempt_login("sato", PASSWORD, address_key("10.1.1.1"),
                             start + timedelta(seconds=59)) == "locked"
        assert attempt_login("sato", "guess", address_key("10.1.1.1"),
                             start + timedelta(seconds=61)) == "failed"
        assert attempt_login("sato", PASSWORD, address_key("10.1.1.1"),
                             start + timedelta(seconds=61 + 119)) == "locked"
        user = attempt_login("sato", PASSWORD, address_key("10.1.1.1"),
                             start + timedelta(seconds=61 + 121))
        assert isinstance(user, StaffUser)
    with svc.factory() as session:
        sato = session.scalar(select(StaffUser).where(StaffUser.username == "sato"))
        assert (sato.failed_logins, sato.locked_until) == (0, None)
    assert audit_actions(svc).count("login_locked") >= 2


@pytest.fixture
def verifications(monkeypatch):
    """Every argon2 verification made, counted (the work, not the wall time)."""
    calls: list[str] = []
    real = PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(hash_)
        return real(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def test_every_kind_of_failed_sign_in_costs_exactly_one_password_check(
        client, svc, verifications):
    add_staff(svc, "sato")
    add_staff(svc, "gone")
    add_staff(svc, "locked")
    with transaction(svc.factory) as session:
        users = {u.username: u for u in session.scalars(select(StaffUser))}
        users["gone"].active = False
        users["locked"].locked_until = utcnow() + timedelta(minutes=10)
    cases = {"unknown name": ("nobody", "guess"), "wrong password": ("sato", "guess"),
             "locked account": ("locked", PASSWORD), "deactivated": ("gone", PASSWORD)}
    for what, (username, password) in cases.items():
        verifications.clear()
        response = login(client, username, password)
        assert response.status_code == 401, what
        assert "ユーザー名またはパスワードが違う" in response.get_data(as_text=True), what
        assert len(verifications) == 1, what
    verifications.clear()
    assert login(client, "sato").status_code == 302
    assert len(verifications) == 1
