"""GET /healthz: 200 once this process can take traffic."""

from __future__ import annotations

from flask import Blueprint

from bot.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[str, int]:
    if services().ready.is_set():
        return "ok", 200
    return "starting", 503
