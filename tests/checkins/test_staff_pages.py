"""The staff check-in pages: sign-in required, today's states, the household page with the
supporter's number (audited), enrolling with consent, pausing, and the CSV export."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from storage import checkins as store
from storage.models import AuditEntry, CheckinEnrolment, Resident
from tests.checkins.conftest import enrol, make_resident, sweep, tokyo
from tests.staff.conftest import add_staff, login, post_form


def _signed_in(client, svc):
    add_staff(svc, "sato")
    login(client, "sato")


def _alias(svc, resident_id: int) -> str:
    with svc.factory() as session:
        return session.get(Resident, resident_id).alias


def test_the_pages_need_a_signed_in_staff_member(client):
    assert client.get("/staff/checkins").status_code in (302, 401)
    assert client.get("/staff/checkins/export.csv").status_code in (302, 401)


def test_today_shows_each_household_with_its_checkin_state(svc, client, clock, monkeypatch):
    import bot.staff.checkins as pages

    monkeypatch.setattr(pages, "_now", lambda: clock())
    first = make_resident(svc, clock, "U1000000000000000000000000000001")
    second = make_resident(svc, clock, "U2000000000000000000000000000002")
    enrol(svc, clock, first)
    enrol(svc, clock, second)
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    with svc.factory() as session, session.begin():
        checkin = session.scalars(select(store.Checkin).where(
            store.Checkin.resident_id == first)).one()
        store.record_answer(checkin, "ok", clock())
    _signed_in(client, svc)
    page = client.get("/staff/checkins?day=2025-06-02").get_data(as_text=True)
    assert _alias(svc, first) in page and _alias(svc, second) in page
    assert 'id="count-sent">2<' in page and 'id="count-answered">1<' in page
    assert 'id="count-waiting">1<' in page and "返答待ち" in page


def test_the_household_page_shows_the_supporter_phone_and_audits_it(svc, client, clock):
    resident_id = make_resident(svc, clock)
    enrolment_id = enrol(svc, clock, resident_id,
                         supporter=store.Supporter("山田 花子", "民生委員", "046-000-1234"))
    _signed_in(client, svc)
    page = client.get(f"/staff/checkins/{enrolment_id}").get_data(as_text=True)
    assert "046-000-1234" in page and "民生委員 山田 花子" in page
    with svc.factory() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "reveal_pii")).one()
    assert entry.resident_alias == _alias(svc, resident_id)


def test_staff_enrol_a_household_with_a_consent_record(svc, client, clock):
    resident_id = make_resident(svc, clock)
    _signed_in(client, svc)
    response = post_form(client, "/staff/checkins/enrol", {
        "alias": _alias(svc, resident_id), "weekdays": ["1", "4"], "at": "09:30",
        "quiet_start": "21:00", "quiet_end": "08:00", "remind_after": "120",
        "escalate_after": "60", "supporter_name": "鈴木 一郎", "supporter_role": "民生委員",
        "supporter_phone": "046-111-2222", "consent_by": "本人（訪問時）",
        "consent_date": "2025-06-01",
    }, token_from="/staff/checkins")
    assert response.status_code == 302
    with svc.factory() as session:
        enrolment = session.scalars(select(CheckinEnrolment)).one()
    assert (enrolment.weekdays, enrolment.at_time) == ([1, 4], "09:30")
    assert (enrolment.remind_after_minutes, enrolment.escalate_after_minutes) == (120, 60)
    assert enrolment.consent_by == "本人（訪問時）" and enrolment.supporter_phone == "046-111-2222"
    assert enrolment.consent_at == tokyo(1, 0)


def test_enrolment_without_consent_is_refused(svc, client, clock):
    resident_id = make_resident(svc, clock)
    _signed_in(client, svc)
    post_form(client, "/staff/checkins/enrol", {
        "alias": _alias(svc, resident_id), "weekdays": ["1"], "at": "10:00",
        "consent_by": "", "consent_date": "2025-06-01",
    }, token_from="/staff/checkins")
    with svc.factory() as session:
        assert session.scalars(select(CheckinEnrolment)).all() == []


def test_pausing_from_the_console_stops_sends(svc, client, clock):
    enrolment_id = enrol(svc, clock, make_resident(svc, clock))
    _signed_in(client, svc)
    post_form(client, f"/staff/checkins/{enrolment_id}/pause",
              {"reason": "入院中", "until": ""}, token_from=f"/staff/checkins/{enrolment_id}")
    clock.now = tokyo(2, 10)
    assert sweep(svc, clock).sent == 0
    with svc.factory() as session:
        enrolment = session.get(CheckinEnrolment, enrolment_id)
    assert (enrolment.status, enrolment.pause_reason) == ("paused", "入院中")
    with svc.factory() as session:  # the plain audit log says that, not why (health data)
        details = session.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "checkin_pause")).all()
    assert details and not any("入院" in (d or "") for d in details)


def test_the_csv_export_lists_checkins_without_phone_numbers(svc, client, clock, monkeypatch):
    import bot.staff.checkins as pages

    monkeypatch.setattr(pages, "_now", lambda: tokyo(3, 12))
    resident_id = make_resident(svc, clock)
    enrol(svc, clock, resident_id, supporter=store.Supporter("山田", "民生委員", "046-000-1234"))
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    _signed_in(client, svc)
    response = client.get("/staff/checkins/export.csv?from=2025-06-01&to=2025-06-03")
    body = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [(r["alias"], r["state"]) for r in rows] == [(_alias(svc, resident_id), "waiting")]
    assert "046-000-1234" not in body
    with svc.factory() as session:
        assert session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "export_csv")).one()
