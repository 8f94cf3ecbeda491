"""Admins read the audit log in the console: who saw or did what, narrowed by person,
action, case, resident and dates, and exported as CSV (the export itself is recorded)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from storage import audit
from storage.db import transaction
from storage.models import AuditEntry
from tests.staff.conftest import add_staff, get_case, open_case_for, signed_in

TOKYO_MORNING = datetime.fromisoformat("2026-11-02T09:00:00+09:00")


def _entries(svc, sato: int, suzuki: int) -> SimpleNamespace:
    """Two cases and five entries, the 2nd to the 7th of November; returns the cases."""
    first = get_case(svc, open_case_for(svc, "U" + "a" * 32, "母の介護の相談です"))
    second = get_case(svc, open_case_for(svc, "U" + "b" * 32, "仕事の相談です"))
    rows = [  # (staff, action, case, alias, days after the 2nd of November)
        (sato, "view_case", first.id, first.resident_alias, 0),
        (sato, "reveal_pii", first.id, first.resident_alias, 0),
        (suzuki, "reply", second.id, second.resident_alias, 1),
        (sato, "close", first.id, first.resident_alias, 3),
        (suzuki, "export_csv", None, None, 5),
    ]
    with transaction(svc.factory) as session:
        for staff_id, action, case_id, alias, days in rows:
            audit.record(session, action, now=TOKYO_MORNING + timedelta(days=days),
                         staff_id=staff_id, case_id=case_id, resident_alias=alias,
                         detail=f"{action} detail")
    return SimpleNamespace(first=first, second=second)


def _rows(page: str) -> list[str]:
    return [part.split('"', 1)[0] for part in page.split('<tr data-action="')[1:]]


def test_admins_filter_the_audit_log(app, svc):
    sato, suzuki = add_staff(svc, "sato"), add_staff(svc, "suzuki")
    add_staff(svc, "boss", role="admin")
    cases = _entries(svc, sato, suzuki)
    admin = signed_in(app, "boss")

    def shown(**query: str) -> list[str]:
        response = admin.get("/staff/admin/audit", query_string=query)
        assert response.status_code == 200
        return _rows(response.get_data(as_text=True))

    assert shown(staff=str(sato)) == ["close", "reveal_pii", "view_case"]  # newest first
    assert shown(action="reveal_pii") == ["reveal_pii"]
    assert shown(case=str(cases.second.id)) == ["reply"]
    assert shown(alias=cases.first.resident_alias.lower()) == ["close", "reveal_pii",
                                                                "view_case"]
    assert shown(**{"from": "2026-11-03", "to": "2026-11-05"}) == ["close", "reply"]
    assert shown(staff=str(suzuki), action="nonsense") == ["export_csv", "reply"]
    everything = shown()
    assert everything[0] == "login" and {"view_case", "export_csv"} <= set(everything)


def test_the_audit_csv_has_the_filtered_rows_and_records_the_export(app, svc):
    sato, suzuki = add_staff(svc, "sato"), add_staff(svc, "suzuki")
    boss = add_staff(svc, "boss", role="admin")
    cases = _entries(svc, sato, suzuki)
    alias = cases.first.resident_alias
    admin = signed_in(app, "boss")
    response = admin.get("/staff/admin/audit.csv", query_string={"alias": alias,
                                                                 "from": "2026-11-01"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # Excel reads the Japanese labels
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert [(r["staff"], r["action"], r["case_id"]) for r in rows] == [
        ("sato", action, str(cases.first.id)) for action in ("close", "reveal_pii", "view_case")]
    assert rows[1]["action_label"] == "個人情報を表示"
    assert rows[0]["time"].startswith("2026-11-05T09:00:00+09:00")
    with svc.factory() as session:
        export = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "export_csv", AuditEntry.staff_id == boss)).one()
    assert "audit log" in export.detail and f"alias={alias}" in export.detail


def test_coordinators_cannot_read_the_audit_log(app, svc):
    add_staff(svc, "sato")
    coordinator = signed_in(app, "sato")
    assert coordinator.get("/staff/admin/audit").status_code == 403
    assert coordinator.get("/staff/admin/audit.csv").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/staff/admin/audit.csv").status_code == 302


def test_the_log_pages_back_in_steps(app, svc, monkeypatch):
    from bot.staff import admin as admin_pages

    monkeypatch.setattr(admin_pages, "AUDIT_PAGE", 2)
    sato, suzuki = add_staff(svc, "sato"), add_staff(svc, "suzuki")
    add_staff(svc, "boss", role="admin")
    _entries(svc, sato, suzuki)
    admin = signed_in(app, "boss")
    page = admin.get("/staff/admin/audit?staff=" + str(sato)).get_data(as_text=True)
    assert _rows(page) == ["close", "reveal_pii"]
    link = re.search(r'href="([^"]*before=[^"]*)"', page).group(1).replace("&amp;", "&")
    assert _rows(admin.get(link).get_data(as_text=True)) == ["view_case"]
