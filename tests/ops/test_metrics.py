"""GET /metrics: counters from the process, queue and case state read from the database."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import create_app
from bot.observability import start_worker_metrics_server
from bot.worker import Worker
from handlers.replies import Reply
from nlu.analysis import Analysis
from storage import crypto, residents
from storage.db import transaction
from storage.models import Case, Checkin, CheckinEnrolment, Resident, utcnow
from tests.conftest import line_event, post_events
from tests.ops.conftest import UNREACHABLE_DB, counter, scrape, services_on

REPO = Path(__file__).resolve().parents[2]


def plain(text: str, now) -> Analysis:
    return Analysis(text=text)


def echo(turn) -> list[Reply]:
    if turn.inbound.text == "壊れる":
        raise RuntimeError("handler bug")
    return [Reply(text="受け付けました")]


def make_resident(session, n: int) -> Resident:
    key = crypto.resident_key("line", f"U{n:032x}")
    return residents.get_or_create(session, resident_key=key, channel="line",
                                   user_id=f"U{n:032x}", now=utcnow())


def add_case(session, resident: Resident, priority: str, status: str, age: timedelta,
             escalated: bool = False) -> None:
    created = utcnow() - age
    session.add(Case(
        resident_id=resident.id, resident_alias=resident.alias, topics=[], topic_evidence={},
        priority=priority, status=status, opened_reason="human", created_at=created,
        escalated_at=created + timedelta(minutes=15) if escalated else None,
        closed_at=utcnow() if status == "closed" else None,
    ))


def test_metrics_is_prometheus_text_with_the_database_up(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert scrape(client)[("madoguchi_database_up", ())] == 1


def test_queue_depth_and_age_come_from_the_database_at_scrape_time(client, svc, worker):
    assert post_events(client, line_event("text"), line_event("text")).status_code == 200
    before = scrape(client)
    assert before[("madoguchi_inbound_backlog", ())] == 2
    assert before[("madoguchi_inbound_backlog_age_seconds", ())] >= 0
    worker.drain()
    after = scrape(client)
    assert after[("madoguchi_inbound_backlog", ())] == 0
    assert after[("madoguchi_inbound_backlog_age_seconds", ())] == 0
    assert after[("madoguchi_outbox_backlog", ())] == 0


def test_undelivered_sends_show_as_outbox_backlog_with_their_age(client, svc, clock, fake_line):
    worker = Worker(svc.factory, svc.channels, analyze=plain, handle=echo, clock=clock)
    fake_line.fail_next(500)  # the reply fails; the retry waits for its backoff
    post_events(client, line_event("text", text="こんにちは"))
    worker.drain()
    found = scrape(client)
    assert found[("madoguchi_outbox_backlog", ())] == 1
    assert found[("madoguchi_outbox_backlog_age_seconds", ())] >= 0


def test_open_cases_are_counted_by_priority_status_and_sla_state(client, svc):
    with transaction(svc.factory) as session:
        people = [make_resident(session, n) for n in range(1, 6)]
        add_case(session, people[0], "urgent", "new", timedelta(minutes=30), escalated=True)
        add_case(session, people[1], "urgent", "new", timedelta(minutes=1))
        add_case(session, people[2], "high", "claimed", timedelta(minutes=5))
        add_case(session, people[3], "normal", "waiting", timedelta(hours=1))
        add_case(session, people[4], "urgent", "closed", timedelta(days=3))
    found = scrape(client)
    urgent_new = {labels: value for (name, labels), value in found.items()
                  if name == "madoguchi_cases_open"
                  and ("priority", "urgent") in labels and ("status", "new") in labels}
    assert sum(urgent_new.values()) == 2  # the closed one is not open
    assert found[("madoguchi_cases_open", (("priority", "urgent"), ("sla_state", "overdue"),
                                           ("status", "new")))] == 1
    assert found[("madoguchi_cases_open", (("priority", "high"), ("sla_state", "ok"),
                                           ("status", "claimed")))] == 1
    assert found[("madoguchi_cases_escalated_open", (("priority", "urgent"),))] == 1
    assert found[("madoguchi_cases_unclaimed_oldest_age_seconds",
                  (("priority", "urgent"),))] >= 30 * 60
    assert ("madoguchi_cases_unclaimed_oldest_age_seconds", (("priority", "high"),)) not in found


def test_checkins_sent_answered_and_escalated_are_counted(client, svc):
    now = utcnow()
    with transaction(svc.factory) as session:
        resident = make_resident(session, 7)
        enrolment = CheckinEnrolment(
            resident_id=resident.id, resident_alias=resident.alias, schedule_kind="weekly",
            weekdays=[0], at_time="10:00", consent_by="本人", consent_at=now)
        session.add(enrolment)
        session.flush()
        for day, answered, escalated in ((1, True, False), (2, False, True), (3, False, False)):
            session.add(Checkin(
                enrolment_id=enrolment.id, resident_id=resident.id,
                due_at=now - timedelta(days=day), status="sent", sent_at=now - timedelta(days=day),
                answered_at=now if answered else None, escalated_at=now if escalated else None))
    found = {labels: value for (name, labels), value in scrape(client).items()
             if name == "madoguchi_checkins"}
    occurrences = {dict(k)["state"]: v for k, v in found.items() if ("table", "checkins") in k}
    assert occurrences == {"sent": 3, "answered": 1, "escalated": 1}
    assert found[(("state", "active"), ("table", "checkin_enrolments"))] == 1


def test_worker_counts_processed_and_failed_events_and_sends(client, svc, clock, fake_line):
    worker = Worker(svc.factory, svc.channels, analyze=plain, handle=echo, clock=clock)
    processed = counter("madoguchi_events_processed_total")
    failed = counter("madoguchi_events_failed_total")
    replies = counter("madoguchi_sends_total", channel="line", via="reply")
    post_events(client, line_event("text", text="こんにちは", user="U" + "a" * 32),
                line_event("text", text="壊れる", user="U" + "b" * 32))
    worker.drain()
    assert counter("madoguchi_events_processed_total") - processed == 1
    assert counter("madoguchi_events_failed_total") - failed == 1
    assert counter("madoguchi_sends_total", channel="line", via="reply") - replies == 1


def test_line_api_errors_are_counted_by_outcome(client, svc, clock, fake_line):
    worker = Worker(svc.factory, svc.channels, analyze=plain, handle=echo, clock=clock)
    retries = counter("madoguchi_send_errors_total", channel="line", outcome="retry")
    failures = counter("madoguchi_send_errors_total", channel="line", outcome="failed")
    fake_line.fail_next(500)  # a 5xx on the reply: retried later (as a push)
    post_events(client, line_event("text", user="U" + "c" * 32))
    worker.drain()
    assert counter("madoguchi_send_errors_total", channel="line", outcome="retry") - retries == 1
    fake_line.fail_next(403)  # the retry is a push; 403 is final
    clock.advance(minutes=5)
    worker.deliver()
    assert counter("madoguchi_send_errors_total", channel="line",
                   outcome="failed") - failures == 1
    assert scrape(client)[("madoguchi_outbox_failed", ())] == 1


def test_nlu_latency_is_observed_for_each_analysed_message(say):
    pytest.importorskip("nlu", reason="nlu.analyze not installed yet")
    before = counter("madoguchi_nlu_seconds_count")
    say("母の介護のことで相談したいです")
    assert counter("madoguchi_nlu_seconds_count") - before == 1
    assert counter("madoguchi_nlu_seconds_sum") > 0


def test_metrics_can_require_a_bearer_token(client, monkeypatch):
    svc = client.application.extensions["madoguchi"]
    monkeypatch.setattr(svc, "config", replace(svc.config, metrics_token="s3cret-token"))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200


def test_metrics_still_answer_when_the_database_is_down():
    client = create_app(svc=services_on(UNREACHABLE_DB)).test_client()
    found = scrape(client)
    assert found[("madoguchi_database_up", ())] == 0
    assert ("madoguchi_inbound_backlog", ()) not in found


def test_http_requests_are_counted_by_endpoint_and_status(client):
    before = counter("madoguchi_http_requests_total", endpoint="health.readyz", status="200")
    client.get("/readyz")
    client.get("/readyz")
    after = counter("madoguchi_http_requests_total", endpoint="health.readyz", status="200")
    assert after - before == 2


def test_a_worker_process_serves_its_own_counters_on_its_metrics_port():
    server = start_worker_metrics_server(0, addr="127.0.0.1")
    try:
        port = server.server_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            body = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert "madoguchi_events_processed_total" in body
    assert "madoguchi_nlu_seconds_bucket" in body


def test_gunicorn_workers_counters_are_summed_in_multiprocess_mode(tmp_path: Path):
    """Two processes count; a third (the one answering /metrics) reports their sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    count = textwrap.dedent("""
        from bot import observability
        for _ in range({n}):
            observability.EVENTS_PROCESSED.inc()
    """)
    for n in (2, 3):
        subprocess.run([sys.executable, "-c", count.format(n=n)], env=env, check=True,
                       cwd=REPO, timeout=120)
    report = "from bot import observability; print(observability.render_metrics(None).decode())"
    out = subprocess.run([sys.executable, "-c", report], env=env, check=True, cwd=REPO,
                         capture_output=True, text=True, timeout=120).stdout
    assert "madoguchi_events_processed_total 5.0" in out
