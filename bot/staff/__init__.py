"""The staff console (/staff): one blueprint per area, one sign-in guard, one set of filters.

- auth: sign-in, sessions, the guard every /staff request passes
- cases: the queue, a case, referrals;  bookings: windows' slots and calendar feeds
- checkins: 見守り;  dashboard: the annual review figures;  admin: accounts, windows, audit log
- content: the FAQ, windows, hours, hotlines and wording (admins and editors)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from bot.config import Config

CSRF_TOKEN_SECONDS = 3600  # a form left open longer is sent again from a reloaded page


def register(app: Flask, config: Config) -> None:
    """Install the console's blueprints, Flask-Login, the guard and security headers."""
    from bot.staff import admin, auth, bookings, cases, checkins, content, dashboard, filters

    # Set, not setdefault: Flask already defines both (31 days; CSRF tokens for an hour).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config.staff_session_hours)
    app.config["WTF_CSRF_TIME_LIMIT"] = CSRF_TOKEN_SECONDS
    auth.login_manager.init_app(app)
    app.before_request(auth.require_login)  # first: who is asking, then what they may see
    app.before_request(_editors_stay_with_content)
    for blueprint in (auth.bp, cases.bp, dashboard.bp, admin.bp, bookings.bp, checkins.bp,
                      content.bp):
        app.register_blueprint(blueprint)
    filters.install(app)
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
