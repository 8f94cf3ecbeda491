"""The sweep that re-notifies and escalates cases waiting for a person.

The targets and which reminder a case has earned are the SLA policy (handlers/sla.py); the
reminders are recorded through the case service (handlers/casework.py). The console shows
these flags whatever the channel; Slack gets a notice only when it is configured.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from handlers import casework, sla
from scheduler.context import JobServices
from scheduler.runner import register_sweep
from storage.db import transaction
from storage.models import Case, utcnow
from storage.models.handoff import CaseNotification

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15


def flag_cases(session: Session, now: datetime, goal: sla.Targets,
               slack: bool) -> dict[str, int]:
    """Record reminders and escalations that fell due; idempotent for the same `now`."""
    counts = {"new_case": 0, "renotify": 0, "escalate": 0, "overdue": 0}
    for case in session.scalars(select(Case).where(Case.status == "new")):
        kind = sla.reminder_due(case, now, goal)
        if kind is None:
            continue
        casework.remind(session, case, kind, now, slack=slack)
        counts[kind] += 1
    if slack:
        counts["new_case"] = _announce_new_cases(session, now)
    return counts


def _announce_new_cases(session: Session, now: datetime) -> int:
    announced = exists().where(CaseNotification.case_id == Case.id,
                               CaseNotification.kind == "new_case")
    fresh = list(session.scalars(select(Case).where(Case.status == "new", ~announced)))
    for case in fresh:
        casework.announce(session, case, now)
    return len(fresh)


def run(svc: JobServices, now: datetime | None = None,
        goal: sla.Targets | None = None) -> dict[str, int]:
    """One pass: flag what fell due and queue Slack notices (new cases, resident messages).
    The worker sends them (bot/staff/notices.py), like the LINE outbox."""
    config, factory, notices = svc.config, svc.factory, svc.case_notices()
    moment = now or utcnow()
    with transaction(factory) as session:
        counts = flag_cases(session, moment, goal or config.sla, slack=notices is not None)
        if notices is not None:
            counts["message"] = notices.queue_resident_messages(session, moment)
    if any(counts.values()):
        log.info("sla sweep: %s", counts)
    return counts


def sweep() -> None:
    """The APScheduler entry point (jobs are stored by path, so no arguments)."""
    from scheduler.context import services

    run(services())


register_sweep("case_sla", sweep, SWEEP_SECONDS)
