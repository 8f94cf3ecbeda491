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
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, text

from common.clock import TOKYO
from scheduler.context import JobServices

log = logging.getLogger(__name__)

# A sweep that fell due while we were down runs once on start (coalesce), however late.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}

# Any constant shared by all scheduler processes of one deployment ("MADO" in ASCII).
LEADER_LOCK_KEY = 0x4D41444F
LEADER_POLL_SECONDS = 5.0

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


def load_jobs() -> None:
    """Import every module in scheduler/jobs; each registers its sweeps on import."""
    import importlib
    import pkgutil

    import scheduler.jobs

    for module in pkgutil.iter_modules(scheduler.jobs.__path__):
        importlib.import_module(f"scheduler.jobs.{module.name}")


def run_scheduler(svc: JobServices, stop: threading.Event) -> None:
    """Run until `stop` is set. On PostgreSQL only the holder of the leader lock runs jobs;
    a standby waits for it and takes over when the leader's connection dies."""
    from scheduler import context

    context.install(svc)
    load_jobs()
    with leadership(svc.engine, stop) as leader:
        if not leader:
            return
        scheduler = build_scheduler(svc.engine)
        scheduler.start()
        log.info("scheduler started with %d sweeps", len(SWEEPS))
        try:
            stop.wait()
        finally:
            scheduler.shutdown(wait=False)


@contextmanager
def leadership(engine: Engine, stop: threading.Event) -> Iterator[bool]:
    """Hold a PostgreSQL session advisory lock for as long as we run jobs.

    The lock lives as long as its connection: if the leader is killed, PostgreSQL
    releases it and a standby polling every LEADER_POLL_SECONDS takes over. SQLite has
    one process by construction, so it needs no lock.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    connection = engine.connect()
    try:
        announced = False
        while not stop.is_set():
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
            ).scalar_one()
            connection.commit()
            if got:
                log.info("scheduler: this process is the leader")
                yield True
                return
            if not announced:
                log.info("scheduler: standing by; another scheduler holds the leader lock")
                announced = True
            stop.wait(LEADER_POLL_SECONDS)
        yield False
    finally:
        connection.close()  # releases the lock
