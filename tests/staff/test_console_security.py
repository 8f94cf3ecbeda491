"""The staff console keeps residents' data behind a sign-in, roles, CSRF and an audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage.models import StaffUser
from tests.staff.conftest import (
    PASSWORD,
    add_staff,
    audit_actions,
    csrf_token,
    login,
    open_case_for,
    post_form,
)

STAFF_PAGES = ["/staff", "/staff/cases/1", "/staff/cases/1/messages", "/staff/referrals",
               "/staff/dashboard", "/staff/dashboard.csv", "/staff/admin/staff",
               "/staff/admin/windows", "/staff/admin/audit", "/staff/admin/audit.csv"]
STAFF_POSTS = ["/staff/cases/1/claim", "/staff/cases/1/reply", "/staff/cases/1/close",
               "/staff/cases/1/notes", "/staff/cases/1/referrals", "/staff/cases/1/reveal",
               "/staff/referrals/1/confirm", "/staff/admin/staff", "/staff/admin/staff/1"]


MY_BLUEPRINTS = ("staff.", "staff_auth.", "staff_dashboard.", "staff_admin.")
# Calendar feeds are read by calendar apps that cannot sign in: a secret token in the URL.
TOKEN_AUTHENTICATED = ("/staff/bookings/feed/",)


def concrete(rule) -> str:
    """A URL for a rule, with any value in each variable part."""
    path = rule.rule
    for name, converter in rule._converters.items():
        value = "1" if type(converter).__name__ == "IntegerConverter" else "x"
        if type(converter).__name__ == "AnyConverter":
            value = sorted(converter.items)[0] if hasattr(converter, "items") else "confirm"
        path = re.sub(r"<[^>]*\b" + name + ">", value, path)
    return path


def test_the_lists_above_cover_every_console_route(app):
    mine = {concrete(r) for r in app.url_map.iter_rules()
            if r.endpoint.startswith(MY_BLUEPRINTS)}
    public = {"/staff/login", "/staff/logout"}
    assert mine - public - set(STAFF_PAGES) - set(STAFF_POSTS) <= {
        "/staff/cases/1/release", "/staff/cases/1/hide"}


def test_every_route_under_staff_whoever_wrote_it_requires_login(app, client):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint == "staff_auth.login":
            continue
        if rule.rule.startswith(TOKEN_AUTHENTICATED):
            continue
        path = concrete(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": csrf_token(client)} if method == "POST" else None
            response = client.open(path, method=method, data=data)
            assert response.status_code in (302, 401), (method, path, response.status_code)
            if response.status_code == 302:
                assert "/staff/login" in response.headers["Location"], (method, path)


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/staff")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="username"' in page and 'name="password"' in page


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_every_staff_page_requires_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


@pytest.mark.parametrize("path", STAFF_POSTS)
def test_every_staff_action_requires_login(client, svc, path):
    token = csrf_token(client)
    response = client.post(path, data={"csrf_token": token, "text": "x"})
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_login_with_the_right_password_opens_the_queue(client, svc):
    add_staff(svc, "sato")
    response = login(client, "sato")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff")
    assert client.get("/staff").status_code == 200
    assert "login" in audit_actions(svc)


def test_wrong_password_is_refused_with_a_message_that_reveals_nothing(client, svc):
    add_staff(svc, "sato")
    wrong = login(client, "sato", "not the password")
    unknown = login(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_data(as_text=True).count("ユーザー名またはパスワードが違う") == 1
    assert client.get("/staff").status_code == 302


def test_login_form_without_csrf_token_is_refused(client, svc):
    add_staff(svc, "sato")
    response = client.post("/staff/login", data={"username": "sato", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/staff").status_code == 302


def test_actions_without_a_csrf_token_change_nothing(client, svc):
    add_staff(svc, "sato")
    case_id = open_case_for(svc, "U1" + "0" * 31, "母の介護の相談です")
    login(client, "sato")
    response = client.post(f"/staff/cases/{case_id}/claim")
    assert response.status_code == 400
    response = client.post(f"/staff/cases/{case_id}/claim", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert "claim" not in audit_actions(svc, case_id)
    assert post_form(client, f"/staff/cases/{case_id}/claim").status_code == 302
    assert "claim" in audit_actions(svc, case_id)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, svc):
    add_staff(svc, "sato")
    for _ in range(5):
        assert login(client, "sato", "guess").status_code == 401
    with svc.factory() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "sato"))
        assert user.locked_until is not None
    assert login(client, "sato").status_code == 401
    assert client.get("/staff").status_code == 302
    assert "login_locked" in audit_actions(svc)


def test_an_admin_unlocks_by_setting_a_new_password(client, svc, app):
    target = add_staff(svc, "sato")
    add_staff(svc, "boss", role="admin")
    for _ in range(5):
        login(client, "sato", "guess")
    admin = app.test_client()
    login(admin, "boss")
    response = post_form(admin, f"/staff/admin/staff/{target}", {
        f"u{target}-role": "coordinator", f"u{target}-active": "y",
        f"u{target}-new_password": "a brand new password"}, token_from="/staff/admin/staff")
    assert response.status_code == 302
    assert login(client, "sato", "a brand new password").status_code == 302


def test_many_failures_from_one_address_are_slowed_down_across_accounts(client, svc):
    add_staff(svc, "sato")
    statuses = [login(client, f"guess{i}", "wrong").status_code for i in range(21)]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    assert login(client, "sato").status_code == 429  # even the right password, for now


def test_coordinator_cannot_reach_admin_pages(client, svc):
    add_staff(svc, "sato")
    login(client, "sato")
    assert client.get("/staff/admin/staff").status_code == 403
    assert client.get("/staff/admin/windows").status_code == 403
    response = post_form(client, "/staff/admin/staff", {
        "username": "intruder", "password": "long enough pw", "role": "admin"})
    assert response.status_code == 403
    with svc.factory() as session:
        assert session.scalar(select(StaffUser).where(StaffUser.username == "intruder")) is None


def test_admin_creates_a_coordinator_who_can_then_sign_in(client, svc, app):
    add_staff(svc, "boss", role="admin")
    login(client, "boss")
    response = post_form(client, "/staff/admin/staff", {
        "username": "tanaka", "display_name": "田中", "password": "tanaka-password",
        "role": "coordinator"}, token_from="/staff/admin/staff")
    assert response.status_code == 302
    assert "staff_create" in audit_actions(svc)
    other = app.test_client()
    assert login(other, "tanaka", "tanaka-password").status_code == 302


def test_deactivated_staff_lose_their_session_at_once(client, svc, app):
    target = add_staff(svc, "sato")
    add_staff(svc, "boss", role="admin")
    login(client, "sato")
    assert client.get("/staff").status_code == 200
    admin = app.test_client()
    login(admin, "boss")
    post_form(admin, f"/staff/admin/staff/{target}", {f"u{target}-role": "coordinator"},
              token_from="/staff/admin/staff")  # "active" unchecked
    assert client.get("/staff").status_code == 302


def test_logout_ends_the_session(client, svc):
    add_staff(svc, "sato")
    login(client, "sato")
    assert post_form(client, "/staff/logout").status_code == 302
    assert client.get("/staff").status_code == 302


def test_next_parameter_cannot_send_staff_to_another_site(client, svc):
    add_staff(svc, "sato")
    token = csrf_token(client)
    response = client.post("/staff/login", data={
        "username": "sato", "password": PASSWORD, "csrf_token": token,
        "next": "https://evil.example/staff"})
    assert response.headers["Location"].endswith("/staff")


def test_staff_pages_are_not_cached_or_framed(client, svc):
    add_staff(svc, "sato")
    login(client, "sato")
    response = client.get("/staff")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_machine_endpoints_stay_free_of_csrf(client, svc):
    # LINE's webhook is authenticated by its signature, not a browser token.
    from tests.conftest import line_event, post_events

    assert post_events(client, line_event("text")).status_code == 200
    assert client.post("/simulator/api/events", json={"sid": "a1", "text": "こんにちは"}
                       ).status_code in (200, 202)
