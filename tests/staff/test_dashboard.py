"""The figures for the city's annual review: by topic and week, first-response times,
outcomes, open cases by age — on screen with charts and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from bot.staff import dashboard
from common.clock import TOKYO
from storage import cases
from storage.db import transaction
from storage.models import Case
from tests.staff.conftest import add_staff, audit_actions, login, open_case_for

NOW = datetime(2025, 10, 15, 12, 0, tzinfo=TOKYO)


def case(id_: int, created: datetime, priority="normal", topics=("elderly_care",), **kw) -> Case:
    return Case(id=id_, created_at=created, priority=priority, topics=list(topics),
                opened_reason="human", about="self", status=kw.get("status", "new"),
                outcome=kw.get("outcome"), first_response_at=kw.get("first_response_at"),
                closed_at=kw.get("closed_at"), watch_requested=kw.get("watch", False))


def test_figures_count_topics_by_week_and_time_first_responses_by_priority():
    monday = datetime(2025, 10, 6, 9, 0, tzinfo=TOKYO)
    rows = [
        case(1, monday, "urgent", ("suicide_risk", "mental_health"),
             first_response_at=monday + timedelta(minutes=6)),
        case(2, monday + timedelta(days=2), "urgent", ("mental_health",),
             first_response_at=monday + timedelta(days=2, minutes=20)),
        case(3, monday + timedelta(days=7), "normal", ("elderly_care",), status="closed",
             outcome="referred", closed_at=monday + timedelta(days=9), watch=True),
    ]
    f = dashboard.compute(rows, [rows[0], rows[1]], 2025, NOW)
    assert f.total == 3
    assert f.by_week[monday.date()] == 2
    assert f.topic_by_week[monday.date()]["mental_health"] == 2
    assert f.by_topic["mental_health"] == 2 and f.by_topic["elderly_care"] == 1
    assert f.response["urgent"]["count"] == 2
    assert f.response["urgent"]["median"] == 13.0
    assert f.response["urgent"]["within_target"] == 50.0  # 6 min met, 20 min missed
    assert f.outcomes["referred"] == 1 and sum(f.outcomes.values()) == 1
    assert f.open_age == {"1日未満": 0, "1〜3日": 0, "3〜7日": 0, "7〜30日": 2, "30日以上": 0}
    assert f.watch_requested == 1


def test_the_fiscal_year_runs_april_to_march_in_tokyo():
    assert dashboard.fiscal_year(datetime(2026, 3, 31, 23, 0, tzinfo=TOKYO)) == 2025
    assert dashboard.fiscal_year(datetime(2026, 4, 1, 0, 0, tzinfo=TOKYO)) == 2026


def test_dashboard_page_draws_charts_and_exports_csv(client, svc):
    add_staff(svc, "sato")
    login(client, "sato")
    open_case_for(svc, "U" + "1" * 32, "介護の相談", topics=("elderly_care",))
    case_id = open_case_for(svc, "U" + "2" * 32, "お金がない", topics=("living_hardship",))
    with transaction(svc.factory) as session:
        c = session.get(Case, case_id)
        c.status, c.outcome, c.closed_at = "closed", "resolved", c.created_at
    page = client.get("/staff/dashboard").get_data(as_text=True)
    assert page.count("<svg") >= 5
    assert "生活困窮・お金" in page and "解決" in page
    summary = client.get("/staff/dashboard.csv")
    assert summary.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(summary.get_data(as_text=True).lstrip("\ufeff"))))
    assert ["outcome", "resolved", "解決", "1"] in rows
    assert any(r[:2] == ["by_topic", "living_hardship"] and r[3] == "1" for r in rows)
    per_case = client.get("/staff/dashboard.csv?kind=cases").get_data(as_text=True)
    assert "R-" not in per_case  # no aliases in the export: figures, not people
    assert len(per_case.strip().splitlines()) == 3
    assert audit_actions(svc).count("export_csv") == 2


def test_open_by_age_buckets():
    rows = [case(i, NOW - age) for i, age in enumerate(
        [timedelta(hours=2), timedelta(days=2), timedelta(days=40)])]
    assert cases.open_by_age(rows, NOW) == {"1日未満": 1, "1〜3日": 1, "3〜7日": 0,
                                            "7〜30日": 0, "30日以上": 1}
