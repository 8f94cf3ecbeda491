"""Response targets for cases (the SLA policy): when a case is due, how it stands, and which
reminder a waiting case has earned. The console colours its queue with these; the SLA
sweep (scheduler/jobs/sla.py) records the reminders through the case service.

Targets (Config.sla, from the environment):
- SLA_URGENT_MINUTES (10), SLA_HIGH_MINUTES (120): wall-clock, because danger keeps no hours;
- SLA_NORMAL_BUSINESS_DAYS (1): by the close of the next business day (handlers/hours.py:
  weekends, national holidays and 年末年始 do not count).
An unclaimed urgent case is re-notified every SLA_RENOTIFY_MINUTES (5) and goes to the
supervisors after SLA_ESCALATE_MINUTES (15).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from common.clock import TOKYO
from handlers import hours
from handlers.content import load_pack
from storage.models import Case

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Targets:
    urgent: timedelta = timedelta(minutes=10)
    high: timedelta = timedelta(hours=2)
    normal_business_days: int = 1
    renotify: timedelta = timedelta(minutes=5)
    escalate: timedelta = timedelta(minutes=15)


def targets(env: Mapping[str, str]) -> Targets:
    """The targets from Config's environment (bot.config is the one reader of it)."""

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


def due_at(case: Case, goal: Targets) -> datetime:
    if case.priority == "urgent":
        return case.created_at + goal.urgent
    if case.priority == "high":
        return case.created_at + goal.high
    return _business_days_later(case.created_at, goal.normal_business_days)


def _business_days_later(start: datetime, days: int) -> datetime:
    """The close of the n-th business day after `start` (Asia/Tokyo)."""
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


def reminder_due(case: Case, now: datetime, goal: Targets) -> str | None:
    """The reminder an unclaimed case has earned now: renotify | escalate | overdue | None."""
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
