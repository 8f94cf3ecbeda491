"""Response targets for cases, and the sweep that re-notifies and escalates.

Targets (configurable through the environment):
- SLA_URGENT_MINUTES (10), SLA_HIGH_MINUTES (120): wall-clock, because danger keeps no hours;
- SLA_NORMAL_BUSINESS_DAYS (1): by the close of the next business day (handlers/hours.py:
  weekends, national holidays and 年末年始 do not count).
An unclaimed urgent case is re-notified every SLA_RENOTIFY_MINUTES (5) and goes to the
supervisors after SLA_ESCALATE_MINUTES (15). The console shows these flags whatever the
channel; Slack gets a notice only when it is configured.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot.config import TOKYO
from scheduler.runner import register_sweep
from storage import cases
from storage.db import transaction
from storage.models import Case, utcnow
from storage.models.handoff import CaseNotification

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15


@dataclass(frozen=True)
class Targets:
    urgent: timedelta = timedelta(minutes=10)
    high: timedelta = timedelta(hours=2)
    normal_business_days: int = 1
    renotify: timedelta = timedelta(minutes=5)
    escalate: timedelta = timedelta(minutes=15)


def targets(env: dict[str, str] | None = None) -> Targets:
    env = dict(os.environ if env is None else env)

    def number(name: str, default: float) -> float:
        try:
            value = float(env.get(name, default))
        except ValueError:
            log.warning("%s is not a number; using %s", name, default)
            return default
        return value if value > 0 else default

    return Targets(
        urgent=timedelta(minutes=number("SLA_URGENT_MINUTES", 10)),
        high=timedelta(minutes=number("SLA_HIGH_MINUTES", 120)),
        normal_business_days=int(number("SLA_NORMAL_BUSINESS_DAYS", 1)),
        renotify=timedelta(minutes=number("SLA_RENOTIFY_MINUTES", 5)),
        escalate=timedelta(minutes=number("SLA_ESCALATE_MINUTES", 15)),
    )


# -- due times and states (also drive the queue's colours) ----------------------


def due_at(case: Case, goal: Targets) -> datetime:
    if case.priority == "urgent":
        return case.created_at + goal.urgent
    if case.priority == "high":
        return case.created_at + goal.high
    return _business_days_later(case.created_at, goal.normal_business_days)


def _business_days_later(start: datetime, days: int) -> datetime:
    """The close of the n-th business day after `start` (Asia/Tokyo)."""
    from handlers import hours
    from handlers.content import load_pack

    business = load_pack().business_hours
    day = start.astimezone(TOKYO).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if hours.is_business_day(day, business):
            counted += 1
    return datetime.combine(day, business.close, tzinfo=TOKYO)


@dataclass(frozen=True)
class SlaState:
    state: str  # ok | soon | overdue | met | late
    due: datetime
    label: str


def sla_state(case: Case, now: datetime, goal: Targets) -> SlaState:
    """Measured to the first message from a person to the resident."""
    due = due_at(case, goal)
    done = case.first_response_at
    if done is not None:
        return SlaState("met", due, "目標内に応答") if done <= due else SlaState(
            "late", due, "目標超過で応答")
    if case.status == "closed":
        return SlaState("met", due, "終了")
    if now >= due:
        return SlaState("overdue", due, "目標時間超過")
    if (due - now) <= (due - case.created_at) / 4:
        return SlaState("soon", due, "まもなく目標時間")
    return SlaState("ok", due, "目標内")


# -- the sweep ----------------------------------------------------------------------


def flag_cases(session: Session, now: datetime, goal: Targets, slack: bool) -> dict[str, int]:
    """Record notices and escalations that fell due; idempotent for the same `now`."""
    counts = {"new_case": 0, "renotify": 0, "escalate": 0, "overdue": 0}
    for case in session.scalars(select(Case).where(Case.status == "new")):
        kind = _due_notice(case, now, goal)
        if kind is None:
            continue
        case.last_notified_at = now
        if kind == "escalate":
            case.escalated_at = now
        if slack:
            cases.notify_slack(session, case, kind, now)
        counts[kind] += 1
    if slack:
        counts["new_case"] = _announce_new_cases(session, now)
    return counts


def _due_notice(case: Case, now: datetime, goal: Targets) -> str | None:
    age = now - case.created_at
    if case.priority == "urgent":
        if case.escalated_at is None and age >= goal.escalate:
            return "escalate"
        if now - (case.last_notified_at or case.created_at) >= goal.renotify:
            return "renotify"
        return None
    if case.last_notified_at is None and now >= due_at(case, goal):
        return "overdue"  # once: a missed target for a non-urgent case
    return None


def _announce_new_cases(session: Session, now: datetime) -> int:
    announced = exists().where(CaseNotification.case_id == Case.id,
                               CaseNotification.kind == "new_case")
    fresh = list(session.scalars(select(Case).where(Case.status == "new", ~announced)))
    for case in fresh:
        cases.notify_slack(session, case, "new_case", now)
    return len(fresh)


def run(svc: object, now: datetime | None = None, goal: Targets | None = None) -> dict[str, int]:
    """One pass: flag what fell due and queue Slack notices (new cases, resident messages).
    The worker sends them (bot/staff/notices.py), like the LINE outbox."""
    from bot.channels.slack import notifier_for
    from bot.staff import notices

    config = svc.config  # type: ignore[attr-defined]
    factory = svc.factory  # type: ignore[attr-defined]
    slack = notifier_for(config) is not None
    moment = now or utcnow()
    with transaction(factory) as session:
        counts = flag_cases(session, moment, goal or targets(), slack=slack)
        if slack:
            counts["message"] = notices.queue_new_resident_messages(session, moment)
    if any(counts.values()):
        log.info("sla sweep: %s", counts)
    return counts


def sweep() -> None:
    """The APScheduler entry point (jobs are stored by path, so no arguments)."""
    from scheduler.context import services

    run(services())


register_sweep("case_sla", sweep, SWEEP_SECONDS)
