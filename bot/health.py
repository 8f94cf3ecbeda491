"""GET /healthz (this process is up) and GET /readyz (it can do its job right now).

/readyz checks the database answers, its schema is at the newest migration, and that what
this process must run is ready: in `all` mode the worker thread with the Japanese model
loaded; a `web` process needs no NLU, so it is ready once configured (bot.wsgi).
"""

from __future__ import annotations

import logging
import threading
import weakref

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, text

from bot.services import Services, services
from storage.migrate import is_current

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

# Engines whose schema was current once: new code means a new process, so a schema
# that was current stays current and the migration scripts need not be re-read.
_current_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_current_lock = threading.Lock()


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    if services().ready.is_set():
        return "ok", 200
    return "starting", 503


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = readiness(services())
    ready = all(value in ("ok", "current", "ready") for value in checks.values())
    return jsonify(ready=ready, checks=checks), 200 if ready else 503


def readiness(svc: Services) -> dict[str, str]:
    checks = {"database": _database(svc.engine)}
    checks["migrations"] = _migrations(svc.engine) if checks["database"] == "ok" else "unknown"
    checks["worker"] = "ready" if svc.ready.is_set() else "starting"
    return checks


def _database(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        log.warning("readyz: database unreachable (%s)", type(exc).__name__)
        return "unreachable"


def _migrations(engine: Engine) -> str:
    if engine in _current_engines:
        return "current"
    try:
        current = is_current(engine)
    except Exception as exc:
        log.warning("readyz: migration check failed (%s)", type(exc).__name__)
        return "unknown"
    if not current:
        return "behind"
    with _current_lock:
        _current_engines.add(engine)
    return "current"
