"""The Flask app factory: webhooks, health, the resident simulator (and the staff console)."""

from __future__ import annotations

import logging

from flask import Flask

from bot.config import Config, load_config
from bot.services import Services, build_services

log = logging.getLogger(__name__)


def create_app(config: Config | None = None, svc: Services | None = None) -> Flask:
    if svc is None:
        svc = build_services(config or load_config("web"))
    config = svc.config
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_webhook_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not config.dev_mode,
        JSON_AS_ASCII=False,
    )
    app.extensions["madoguchi"] = svc

    from bot import health, simulator, webhook_line

    app.register_blueprint(webhook_line.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(simulator.bp)

    @app.errorhandler(413)
    def too_large(_error: Exception) -> tuple[str, int]:
        return "payload too large", 413

    return app
