"""Watch LINE's monthly push quota: a gauge of limit and use, and a warning in the log
before it runs out (replies with a fresh token are free; pushes are not)."""

from __future__ import annotations

import logging

from prometheus_client import Gauge

from scheduler.runner import register_sweep

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15 * 60
PUSH_LIMIT = Gauge("madoguchi_line_push_limit",
                   "LINE's monthly push quota (-1: no limit)", multiprocess_mode="max")
PUSH_USED = Gauge("madoguchi_line_push_used",
                  "LINE push messages used this month", multiprocess_mode="max")


def run(svc: object) -> object | None:
    """Read the quota once; None when LINE is not configured or did not answer."""
    channel = svc.channels.get("line")  # type: ignore[attr-defined]
    if channel is None:
        return None
    try:
        quota = channel.quota()
    except Exception as exc:  # LINE away: try again at the next sweep
        log.warning("line quota not read: %s", type(exc).__name__)
        return None
    PUSH_LIMIT.set(-1 if quota.limit is None else quota.limit)
    PUSH_USED.set(quota.used)
    if quota.running_out:
        log.warning("LINE push quota running out: %d of %d used this month",
                    quota.used, quota.limit)
    return quota


def sweep() -> None:
    """The APScheduler entry point (jobs are stored by path, so no arguments)."""
    from scheduler.context import services

    run(services())


register_sweep("line_quota", sweep, SWEEP_SECONDS)
