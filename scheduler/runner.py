"""The single scheduler process (or thread, in `all` mode).

APScheduler 3.11 keeps its jobs in the application database (SQLAlchemyJobStore).
Its job store is not safe to share between processes, so exactly one scheduler
runs. Jobs are interval sweeps over durable rows (check-in occurrences, reminders,
case timers) rather than one job per occurrence: a sweep that runs late still
finds everything that fell due, so nothing is dropped while the process was down,
and the rows' own state makes each send happen once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.config import TOKYO

log = logging.getLogger(__name__)

# A sweep that fell due while we were down runs once on start (coalesce), however late.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}

# (job id, function path, seconds between runs); later layers append their sweeps.
SWEEPS: list[tuple[str, str, int]] = []


def build_scheduler(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults=JOB_DEFAULTS,
        timezone=TOKYO,
    )
    for job_id, func, seconds in SWEEPS:
        scheduler.add_job(func, "interval", seconds=seconds, id=job_id, replace_existing=True)
    return scheduler


def register_sweep(job_id: str, func: Callable[[], object] | str, seconds: int) -> None:
    path = func if isinstance(func, str) else f"{func.__module__}:{func.__qualname__}"
    SWEEPS.append((job_id, path, seconds))


def run_scheduler(svc: object, stop: object) -> None:
    """Run until `stop` (a threading.Event) is set."""
    from scheduler import context

    context.install(svc)
    scheduler = build_scheduler(svc.engine)  # type: ignore[attr-defined]
    scheduler.start()
    log.info("scheduler started with %d sweeps", len(SWEEPS))
    try:
        stop.wait()  # type: ignore[attr-defined]
    finally:
        scheduler.shutdown(wait=False)
