"""The staff console (/staff): sign-in, the queue, cases, the dashboard and admin pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError


def register(app: Flask) -> None:
    """Install the console's blueprints, Flask-Login and its security headers on `app`."""
    from bot.staff import admin, auth, content, dashboard, views

    app.config.setdefault("PERMANENT_SESSION_LIFETIME", timedelta(hours=8))
    auth.login_manager.init_app(app)
    for blueprint in (auth.bp, views.bp, dashboard.bp, admin.bp, content.bp):
        app.register_blueprint(blueprint)
    app.before_request(_editors_stay_with_content)
    app.after_request(_headers)
    app.register_error_handler(CSRFError, _csrf_failed)


# Editors keep the city's words (FAQ, windows, lines); residents' cases are not theirs to read.
EDITOR_PATHS = ("/staff/content", "/staff/dashboard", "/staff/login", "/staff/logout")


def _editors_stay_with_content() -> Any:
    if not request.path.startswith("/staff") or request.path.startswith(EDITOR_PATHS):
        return None
    if current_user.is_authenticated and current_user.role == "editor":
        if request.path.rstrip("/") == "/staff":  # the page after signing in
            return redirect(url_for("staff_content.overview"))
        abort(403)
    return None


def _csrf_failed(_error: CSRFError) -> tuple[str, int]:
    return render_template("staff/csrf.html"), 400


def _headers(response: Response) -> Response:
    if not request.path.startswith("/staff"):
        return response
    # Pages full of personal data: never cached, never framed, scripts only from us.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    return response
