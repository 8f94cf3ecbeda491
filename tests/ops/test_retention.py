"""Retention: old closed cases are anonymised, old history and raw events are deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler import context
from scheduler.runner import SWEEPS, build_scheduler
from storage import crypto, residents
from storage.db import transaction
from storage.models import (
    AuditEntry,
    Case,
    CaseNote,
    InboundEvent,
    Message,
    Outbox,
    Referral,
    Resident,
    utcnow,
)
from storage.retention import (
    ANONYMISED_ALIAS,
    RetentionConfigError,
    RetentionPolicy,
    purge,
)

NOW = utcnow()
DAY = timedelta(days=1)


def resident(session, n: int) -> Resident:
    return residents.get_or_create(
        session, resident_key=crypto.resident_key("line", f"U{n:032x}"), channel="line",
        user_id=f"U{n:032x}", now=NOW - 800 * DAY)


def case(session, who: Resident, status: str, closed_days_ago: float | None) -> Case:
    opened = NOW - ((closed_days_ago or 0) + 20) * DAY
    row = Case(
        resident_id=who.id, resident_alias=who.alias, topics=["housing"],
        topic_evidence={"housing": ["家賃が払えない"]}, priority="high", status=status,
        opened_reason="human", urgent_reason="「死にたい」との記載", summary="家賃滞納の相談",
        outcome="referred" if status == "closed" else None, window_id="welfare",
        created_at=opened,
        closed_at=NOW - closed_days_ago * DAY if closed_days_ago is not None else None,
    )
    session.add(row)
    session.flush()
    session.add(CaseNote(case_id=row.id, text="本人と電話で話した", created_at=opened))
    session.add(Referral(case_id=row.id, window_id="housing", note="住宅課へ", created_at=opened))
    session.add(AuditEntry(action="view_case", case_id=row.id, resident_alias=who.alias,
                           created_at=opened))
    return row


def message(session, who: Resident, days_ago: float, case_id: int | None = None) -> None:
    session.add(Message(resident_id=who.id, direction="in", sender="resident", kind="text",
                        text="相談です", masked_text="相談です", case_id=case_id,
                        created_at=NOW - days_ago * DAY))


def event(session, n: int, status: str, days_ago: float) -> None:
    when = NOW - days_ago * DAY
    session.add(InboundEvent(
        channel="line", event_id=f"ev-{n}", event_type="message", resident_key="k",
        payload={"message": {"text": "秘密"}}, received_at=when, status=status,
        attempts=1, processed_at=when if status != "pending" else None))


def send(session, who: Resident, n: int, status: str, days_ago: float) -> None:
    when = NOW - days_ago * DAY
    session.add(Outbox(
        resident_id=who.id, resident_key=who.resident_key, channel="line",
        idempotency_key=f"00000000-0000-0000-0000-{n:012d}", messages=[{"text": "はい"}],
        status=status, attempts=1, next_attempt_at=when, created_at=when,
        sent_at=when if status == "sent" else None))


@pytest.fixture
def history(svc):
    """Three residents: one long closed, one closed recently, one with an open case."""
    with transaction(svc.factory) as session:
        old, recent, ongoing = resident(session, 1), resident(session, 2), resident(session, 3)
        expired = case(session, old, "closed", closed_days_ago=400)
        message(session, old, 430, case_id=expired.id)
        message(session, old, 420)
        message(session, old, 10)  # wrote again lately: kept
        kept = case(session, recent, "closed", closed_days_ago=100)
        message(session, recent, 120, case_id=kept.id)
        case(session, ongoing, "claimed", closed_days_ago=None)
        message(session, ongoing, 500)  # an open case keeps even old history
        for n, (status, days) in enumerate([("done", 40), ("ignored", 31), ("failed", 60),
                                            ("done", 5), ("pending", 45)]):
            event(session, n, status, days)
        for n, (status, days) in enumerate([("sent", 40), ("failed", 35), ("sent", 2),
                                            ("pending", 50)]):
            send(session, old, n, status, days)
    return {"expired": expired.id, "kept": kept.id}


def count(svc, model, *where) -> int:
    with svc.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_case_closed_longer_than_the_period_is_anonymised(svc, history):
    report = purge(svc.factory, NOW, RetentionPolicy(days=365, event_days=30))
    with svc.factory() as session:
        expired = session.get(Case, history["expired"])
        kept = session.get(Case, history["kept"])
        referral = session.scalars(select(Referral).where(Referral.case_id == expired.id)).one()
    assert expired.resident_id is None and expired.resident_alias == ANONYMISED_ALIAS
    assert (expired.summary, expired.urgent_reason, expired.topic_evidence) == (None, None, {})
    # What the yearly statistics need stays.
    assert (expired.topics, expired.priority, expired.outcome, expired.window_id) == (
        ["housing"], "high", "referred", "welfare")
    assert referral.note is None and referral.window_id == "housing"
    with svc.factory() as session:
        seen = {e.case_id: e.resident_alias for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "view_case"))}
    assert seen[expired.id] is None and seen[kept.id] == kept.resident_alias
    assert count(svc, CaseNote, CaseNote.case_id == expired.id) == 0
    assert kept.summary == "家賃滞納の相談" and kept.resident_alias != ANONYMISED_ALIAS
    assert count(svc, CaseNote, CaseNote.case_id == kept.id) == 1
    assert (report.cases_anonymised, report.case_notes_deleted,
            report.referral_notes_cleared) == (1, 1, 1)


def test_history_older_than_the_period_goes_unless_a_case_is_still_open(svc, history):
    report = purge(svc.factory, NOW, RetentionPolicy(days=365, event_days=30))
    with svc.factory() as session:
        left = sorted(round((NOW - m.created_at) / DAY) for m in session.scalars(select(Message)))
    assert left == [10, 120, 500]  # written lately, a recent case's, an open case's
    assert report.messages_deleted == 2
    assert count(svc, Resident) == 3  # residents themselves are not deleted here


def test_raw_events_and_sends_go_after_the_shorter_period_once_finished(svc, history):
    report = purge(svc.factory, NOW, RetentionPolicy(days=365, event_days=30))
    with svc.factory() as session:
        events_left = sorted((e.status, round((NOW - e.received_at) / DAY))
                             for e in session.scalars(select(InboundEvent)))
        sends_left = sorted((o.status, round((NOW - o.created_at) / DAY))
                            for o in session.scalars(select(Outbox)))
    assert events_left == [("done", 5), ("pending", 45)]  # unfinished work is never dropped
    assert sends_left == [("pending", 50), ("sent", 2)]
    assert (report.events_deleted, report.sends_deleted) == (3, 2)


def test_each_run_leaves_an_audit_entry_with_counts_only(svc, history):
    purge(svc.factory, NOW, RetentionPolicy(days=365, event_days=30))
    with svc.factory() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "retention"))
    assert entry.staff_id is None and entry.case_id is None and entry.resident_alias is None
    assert "cases_anonymised=1" in entry.detail and "messages_deleted=2" in entry.detail
    assert "events_deleted=3" in entry.detail and "家賃" not in entry.detail


def test_running_again_changes_nothing_more(svc, history):
    purge(svc.factory, NOW, RetentionPolicy(days=365, event_days=30))
    again = purge(svc.factory, NOW, RetentionPolicy(days=365, event_days=30))
    assert set(again.counts().values()) == {0}
    assert count(svc, AuditEntry, AuditEntry.action == "retention") == 2


def test_small_batches_reach_the_same_result(svc, history):
    report = purge(svc.factory, NOW, RetentionPolicy(days=365, event_days=30), batch_size=1)
    assert (report.cases_anonymised, report.messages_deleted, report.events_deleted,
            report.sends_deleted) == (1, 2, 3, 2)


def test_a_shorter_period_reaches_the_recently_closed_case(svc, history):
    report = purge(svc.factory, NOW, RetentionPolicy(days=90, event_days=30))
    assert report.cases_anonymised == 2


def test_the_periods_come_from_the_environment():
    assert RetentionPolicy.from_env({}) == RetentionPolicy(days=365, event_days=30)
    assert RetentionPolicy.from_env({"RETENTION_DAYS": "730", "EVENT_RETENTION_DAYS": "14"}) == \
        RetentionPolicy(days=730, event_days=14)
    for bad in ("a year", "0", "-5"):
        with pytest.raises(RetentionConfigError):
            RetentionPolicy.from_env({"RETENTION_DAYS": bad})


def test_the_scheduler_runs_retention_daily(svc, history, monkeypatch):
    import scheduler.jobs.retention as job

    assert ("retention", "scheduler.jobs.retention:sweep", 86400) in SWEEPS
    assert any(j.id == "retention" for j in build_scheduler(svc.engine).get_jobs())
    monkeypatch.setattr(context, "_services", svc)
    job.sweep()  # as APScheduler calls it: by path, no arguments
    with svc.factory() as session:
        anonymised = session.get(Case, history["expired"])
    assert anonymised.resident_alias == ANONYMISED_ALIAS
