"""Watch LINE's monthly push quota: a warning in the log before it runs out (replies with a
fresh token are free; pushes are not). The gauges are served by the web's /metrics
(bot/observability.PushQuotaCollector), which every deployment scrapes."""

from __future__ import annotations

import logging

from scheduler.runner import register_sweep

log = logging.getLogger(__name__)

SWEEP_SECONDS = 15 * 60


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
    if quota.running_out:
        log.warning("LINE push quota running out: %d of %d used this month",
                    quota.used, quota.limit)
    return quota


def sweep() -> None:
    """The APScheduler entry point (jobs are stored by path, so no arguments)."""
    from scheduler.context import services

    run(services())


register_sweep("line_quota", sweep, SWEEP_SECONDS)
