"""Response targets colour the queue and drive re-notification and escalation."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from common.clock import TOKYO
from handlers import sla
from scheduler.jobs import sla as sla_sweep
from storage.db import transaction
from storage.models import Case
from storage.models.handoff import CaseNotification
from tests.staff.conftest import add_staff, get_case, login, open_case_for, post_form

GOAL = sla.Targets()


def case_at(priority: str, created: datetime, **kw) -> Case:
    return Case(priority=priority, created_at=created, status=kw.get("status", "new"),
                first_response_at=kw.get("first_response_at"))


def test_urgent_and_high_targets_are_wall_clock():
    created = datetime(2025, 5, 3, 22, 0, tzinfo=TOKYO)  # a holiday night: danger keeps no hours
    assert sla.due_at(case_at("urgent", created), GOAL) == created + timedelta(minutes=10)
    assert sla.due_at(case_at("high", created), GOAL) == created + timedelta(hours=2)


def test_normal_target_is_the_close_of_the_next_business_day_skipping_holidays():
    friday = datetime(2025, 5, 2, 15, 0, tzinfo=TOKYO)  # then 3–6 May: weekend + holidays
    due = sla.due_at(case_at("normal", friday), GOAL).astimezone(TOKYO)
    assert due.date().isoformat() == "2025-05-07"
    new_year = datetime(2025, 12, 26, 10, 0, tzinfo=TOKYO)  # Friday before 年末年始
    assert sla.due_at(case_at("normal", new_year), GOAL).astimezone(TOKYO).date(
        ).isoformat() == "2026-01-05"


def test_states_go_from_ok_to_soon_to_overdue_and_stop_at_the_first_response():
    created = datetime(2025, 6, 2, 10, 0, tzinfo=TOKYO)
    case = case_at("urgent", created)
    assert sla.sla_state(case, created + timedelta(minutes=1), GOAL).state == "ok"
    assert sla.sla_state(case, created + timedelta(minutes=8), GOAL).state == "soon"
    assert sla.sla_state(case, created + timedelta(minutes=11), GOAL).state == "overdue"
    answered = case_at("urgent", created, first_response_at=created + timedelta(minutes=4))
    assert sla.sla_state(answered, created + timedelta(hours=3), GOAL).state == "met"


def test_targets_are_configurable_from_the_environment():
    goal = sla.targets({"SLA_URGENT_MINUTES": "5", "SLA_HIGH_MINUTES": "60",
                        "SLA_ESCALATE_MINUTES": "30", "SLA_RENOTIFY_MINUTES": "nonsense"})
    assert goal.urgent == timedelta(minutes=5) and goal.high == timedelta(hours=1)
    assert goal.escalate == timedelta(minutes=30)
    assert goal.renotify == timedelta(minutes=5)  # a bad value falls back to the default


def sweep(svc, now):
    with transaction(svc.factory) as session:
        return sla_sweep.flag_cases(session, now, GOAL, slack=True)


def test_unclaimed_urgent_case_renotifies_every_five_minutes_then_escalates_at_fifteen(
        svc, clock):
    case_id = open_case_for(svc, "U" + "9" * 32, "助けて", priority="urgent", reason="urgent",
                            now=clock.now)
    start = clock.now
    kinds = []
    for minute in range(0, 21):
        counts = sweep(svc, start + timedelta(minutes=minute))
        kinds += [k for k, n in counts.items() if n and k != "new_case"]
    assert kinds == ["renotify", "renotify", "escalate", "renotify"]  # at 5, 10, 15, 20
    case = get_case(svc, case_id)
    assert case.escalated_at == start + timedelta(minutes=15)
    assert case.last_notified_at == start + timedelta(minutes=20)
    with svc.factory() as session:
        queued = list(session.scalars(select(CaseNotification.kind).order_by(
            CaseNotification.id)))
    assert queued == ["new_case", "renotify", "renotify", "escalate", "renotify"]


def test_a_claimed_urgent_case_is_not_chased(svc, clock, client):
    staff = add_staff(svc, "sato")
    case_id = open_case_for(svc, "U" + "9" * 32, "助けて", priority="urgent", reason="urgent",
                            now=clock.now)
    with transaction(svc.factory) as session:
        from storage import cases

        assert cases.claim(session, case_id, staff, clock.now).won
    assert not any(sweep(svc, clock.now + timedelta(minutes=30)).values())
    assert get_case(svc, case_id).escalated_at is None


def test_a_missed_normal_target_is_flagged_once(svc, clock):
    open_case_for(svc, "U" + "8" * 32, "相談", priority="high", now=clock.now)
    assert sweep(svc, clock.now + timedelta(hours=1))["overdue"] == 0
    assert sweep(svc, clock.now + timedelta(hours=3))["overdue"] == 1
    assert sweep(svc, clock.now + timedelta(hours=4))["overdue"] == 0


def test_without_slack_the_console_still_shows_the_flags(svc, clock, client):
    open_case_for(svc, "U" + "9" * 32, "助けて", priority="urgent", reason="urgent",
                  now=clock.now - timedelta(minutes=16))
    with transaction(svc.factory) as session:
        sla_sweep.flag_cases(session, clock.now, GOAL, slack=False)
        assert session.scalar(select(CaseNotification)) is None
    add_staff(svc, "sato")
    login(client, "sato")
    page = client.get("/staff").get_data(as_text=True)
    assert "上長へ通知" in page and "sla-overdue" in page


def test_the_sweep_is_registered_with_the_scheduler():
    from scheduler.runner import SWEEPS

    assert ("case_sla", "scheduler.jobs.sla:sweep", sla_sweep.SWEEP_SECONDS) in SWEEPS


def test_claiming_from_the_queue_stops_the_clock(client, svc, clock):
    add_staff(svc, "sato")
    login(client, "sato")
    case_id = open_case_for(svc, "U" + "9" * 32, "助けて", priority="urgent", reason="urgent")
    post_form(client, f"/staff/cases/{case_id}/claim")
    assert not any(sweep(svc, clock.now + timedelta(hours=1)).values())
