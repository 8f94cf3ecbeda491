"""The daily retention sweep: anonymise old closed cases, delete old history and raw events."""

from __future__ import annotations

from datetime import datetime

from scheduler.context import JobServices
from scheduler.runner import register_sweep
from storage.models import utcnow
from storage.retention import RetentionReport, purge

SWEEP_SECONDS = 24 * 60 * 60


def run(svc: JobServices, now: datetime | None = None) -> RetentionReport:
    return purge(svc.factory, now or utcnow(), svc.config.retention)


def sweep() -> None:
    """The APScheduler entry point (jobs are stored by path, so no arguments)."""
    from scheduler.context import services

    run(services())


register_sweep("retention", sweep, SWEEP_SECONDS)
