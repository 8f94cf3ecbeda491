"""The process's services, for jobs (APScheduler stores jobs by function path only)."""

from __future__ import annotations

from typing import Any

_services: Any = None


def install(svc: Any) -> None:
    global _services
    _services = svc


def services() -> Any:
    if _services is None:
        raise RuntimeError("scheduler context not installed")
    return _services
