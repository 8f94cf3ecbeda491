"""The Flask app factory: webhooks, health, the resident simulator and the staff console."""

from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.config import Config, load_config
from bot.services import Services, build_services
from handlers.content import live as content_live

log = logging.getLogger(__name__)
CONTENT_CHECK_SECONDS = 1.0


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
    if config.trusted_proxy_count:
        # Believe X-Forwarded-For/-Proto only as far back as our own proxies: the client
        # address the sign-in limits see, and https in the URLs we build.
        n = config.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]

    from bot import health, observability, simulator, webhook_line

    observability.install(app)  # request ids, HTTP counters, GET /metrics
    app.register_blueprint(webhook_line.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(simulator.bp)
    _install_staff(app, svc)

    @app.before_request
    def follow_content() -> None:
        # Pages and flows read the version published now; at most one query a second.
        # Not for machine endpoints: Slack must be answered within 3 s whatever the database.
        if not request.path.startswith(("/callback", "/healthz", "/readyz", "/metrics",
                                        "/slack")):
            content_live.refresh(svc.factory, min_interval=CONTENT_CHECK_SECONDS)

    @app.errorhandler(413)
    def too_large(_error: Exception) -> tuple[str, int]:
        return "payload too large", 413

    return app


def _install_staff(app: Flask, svc: Services) -> None:
    """The staff console and Slack; CSRF on every form post except machine endpoints."""
    from flask_wtf.csrf import CSRFProtect

    from bot import simulator, slack_events, staff, webhook_line

    staff.register(app, svc.config)
    slack_events.register(app, svc)
    csrf = CSRFProtect(app)
    # Signed by LINE / Slack, or the simulator's JSON API: not browser form posts.
    csrf.exempt(webhook_line.bp)
    csrf.exempt(slack_events.bp)
    csrf.exempt(simulator.post_event)
