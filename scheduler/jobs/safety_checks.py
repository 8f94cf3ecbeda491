"""The check question nobody answered: after 10 minutes, a high-priority case for a person.

Each unanswered question is a durable row (storage/safety_checks.py) with its due time, so a
sweep that runs late (or after a restart) still finds every one that fell due. The answer is
recorded with a conditional UPDATE in the same transaction as the case and the message to
the resident: a tap at the same moment and the sweep cannot both act, and nothing is done
twice across overlapping sweeps.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from scheduler.runner import register_sweep
from storage import outbox
from storage import safety_checks as store
from storage.db import transaction
from storage.models import Resident, SafetyCheck, utcnow

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30


def run(factory: sessionmaker[Session], now: datetime) -> int:
    """Open a case for every question unanswered at ``now``; returns how many."""
    with transaction(factory) as session:
        due = store.due(session, now)
        store.forget_old_texts(session, now)
    opened = 0
    for check_id in due:
        with transaction(factory) as session:
            opened += _no_answer(session, check_id, now)
    if due:
        log.info("safety checks: %d unanswered, %d cases opened", len(due), opened)
    return opened


def _no_answer(session: Session, check_id: int, now: datetime) -> int:
    from handlers.flows.safety_check import no_answer_case

    if not store.record(session, check_id, "no_answer", now):
        return 0  # answered (or swept) meanwhile
    asked = session.get(SafetyCheck, check_id)
    resident = session.get(Resident, asked.resident_id) if asked and asked.resident_id else None
    if asked is None or resident is None:
        return 0
    replies = no_answer_case(session, asked, now)
    if resident.active:
        outbox.enqueue(session, resident, replies, now=now, sender="system",
                       case_id=asked.case_id)
    return 1


def _factory() -> Any:
    from scheduler.context import services

    return services().factory


def sweep() -> None:
    """The scheduler's entry point (APScheduler stores jobs by function path)."""
    run(_factory(), utcnow())


register_sweep("safety_checks", sweep, SWEEP_SECONDS)
