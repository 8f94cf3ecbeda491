"""Staff sign-in: argon2 passwords, Flask-Login sessions that end, and the console's guard.

A session ends when its owner logs out (everywhere: the login id carries a per-account
version that logout raises), STAFF_SESSION_HOURS after signing in, or after
STAFF_IDLE_MINUTES without the person doing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.demo import is_demo_credential
from bot.services import services
from bot.staff import login_limits
from bot.staff.forms import ActionForm, LoginForm
from storage import audit
from storage.db import transaction
from storage.models import StaffUser, utcnow
from storage.staff import verify_against_nothing, verify_password

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "staff_auth.login"
login_manager.login_message = "ログインしてください。"
login_manager.session_protection = "strong"

TOO_MANY = "ログインの試行が多すぎます。しばらくしてからお試しください。"
GENERIC_FAILURE = "ユーザー名またはパスワードが違うか、アカウントが一時的にロックされています。"
SESSION_ENDED = "一定時間が過ぎたため、ログアウトしました。もう一度ログインしてください。"
# Reachable without signing in: the sign-in form, and calendar feeds (their secret URL
# is the credential, for calendar apps that cannot sign in).
PUBLIC_ENDPOINTS = frozenset({"staff_auth.login", "staff_bookings.feed"})
# The case page polls for new messages; only a poll sent after the person did something
# (the page says so in this header) counts as activity for the idle timeout.
ACTIVE_HEADER = "X-Staff-Active"
SEEN_RESOLUTION = 15  # seconds: "last seen" is rewritten at most this often


class Staff(UserMixin):
    """The signed-in staff member for this request (a plain snapshot, not a DB row)."""

    def __init__(self, user: StaffUser) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name or user.username
        self.role = user.role
        self.is_supervisor = user.is_supervisor
        self._login_id = login_id(user)

    def get_id(self) -> str:
        return self._login_id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_edit_content(self) -> bool:
        """Admins and editors change the FAQ, windows, hours, hotlines and wording."""
        return self.role in ("admin", "editor")


def login_id(user: StaffUser) -> str:
    """What the session cookie names: the account, its session version and a password stamp.
    Logout raises the version; a new password changes the stamp; either ends every session."""
    stamp = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
    return f"{user.id}.{user.session_version or 0}.{stamp}"


@login_manager.user_loader
def load_user(user_id: str) -> Staff | None:
    ident = user_id.partition(".")[0]
    if not ident.isdigit():
        return None
    with services().factory() as session:
        user = session.get(StaffUser, int(ident))
        if user is None or not user.active or not hmac.compare_digest(login_id(user), user_id):
            return None
        return Staff(user)


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    if request.headers.get("X-Requested-With") == "fetch":
        abort(401)
    return redirect(url_for("staff_auth.login", next=request.full_path.rstrip("?")))


def require_login() -> Any:
    """The console's one guard (app.before_request): nothing under /staff without a live
    session, whichever blueprint serves it."""
    if not request.path.startswith("/staff") or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    now = utcnow()
    if session_over(now):
        with transaction(services().factory) as session:
            audit.record(session, "session_expired", now=now, staff_id=current_user.id)
        _end_session()
        flash(SESSION_ENDED)
        return login_manager.unauthorized()
    _note_activity(now)
    return None


def current_staff_id() -> int | None:
    """The signed-in staff member's id, for audit entries and records."""
    return getattr(current_user, "id", None)


# -- session lifetime --------------------------------------------------------------


def session_limits() -> tuple[timedelta, timedelta]:
    config = services().config
    return (timedelta(hours=config.staff_session_hours),
            timedelta(minutes=config.staff_idle_minutes))


def session_over(now: datetime) -> bool:
    """Past the absolute lifetime, idle too long, or from before these limits existed."""
    signed_in, seen = flask_session.get("signed_in_at"), flask_session.get("seen_at")
    if not isinstance(signed_in, int | float) or not isinstance(seen, int | float):
        return True
    lifetime, idle = session_limits()
    moment = now.timestamp()
    return moment - signed_in > lifetime.total_seconds() or moment - seen > idle.total_seconds()


def _note_activity(now: datetime) -> None:
    background = request.headers.get("X-Requested-With") == "fetch"
    if background and request.headers.get(ACTIVE_HEADER) != "1":
        return
    if now.timestamp() - flask_session.get("seen_at", 0) >= SEEN_RESOLUTION:
        flask_session["seen_at"] = int(now.timestamp())


def _start_session(user: StaffUser, now: datetime) -> None:
    flask_session.clear()  # a fresh session: nothing from before sign-in carries over
    flask_session.permanent = True
    login_user(Staff(user))
    flask_session["signed_in_at"] = flask_session["seen_at"] = int(now.timestamp())


def _end_session() -> None:
    logout_user()
    flask_session.clear()


# -- views ----------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("staff/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("staff/login.html", form=form), 400
    now = utcnow()
    outcome = attempt_login(form.username.data or "", form.password.data or "",
                            address_key(), now)
    if isinstance(outcome, Throttled):
        seconds = max(1, math.ceil(outcome.wait.total_seconds()))
        return (render_template("staff/login.html", form=form, error=TOO_MANY), 429,
                {"Retry-After": str(seconds)})
    if not isinstance(outcome, StaffUser):
        return render_template("staff/login.html", form=form, error=GENERIC_FAILURE), 401
    _start_session(outcome, now)
    return redirect(_safe_next(form.next.data))


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated and ActionForm().validate_on_submit():
        with transaction(services().factory) as session:
            user = session.get(StaffUser, current_user.id)
            if user is not None:  # every other copy of this session ends too
                user.session_version = (user.session_version or 0) + 1
            audit.record(session, "logout", now=utcnow(), staff_id=current_user.id)
        _end_session()
        flash("ログアウトしました。")
    return redirect(url_for("staff_auth.login"))


# -- checking a sign-in -------------------------------------------------------------


@dataclass(frozen=True)
class Throttled:
    """This address has failed too often lately: it may try again after `wait`."""

    wait: timedelta


def attempt_login(username: str, password: str, address: str,
                  now: datetime | None = None) -> StaffUser | Throttled | str:
    """The StaffUser on success, Throttled, or "locked" / "failed".

    Every attempt that is not throttled costs exactly one argon2 verification, whether the
    name exists, is locked, is deactivated or the password is wrong: the time an answer
    takes says nothing about which."""
    now = now or utcnow()
    with transaction(services().factory) as session:
        wait = login_limits.address_wait(session, address, now)
        if wait is not None:
            return Throttled(wait)
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        password_ok = _verify_once(user, password)
        if password_ok and not services().config.embedded_demo:
            # README prints the demo passwords: they open nothing outside the demo.
            password_ok = not is_demo_credential(username, password)
        locked = user is not None and user.locked_until is not None and user.locked_until > now
        if user is not None and user.active and password_ok and not locked:
            user.failed_logins, user.locked_until = 0, None
            audit.record(session, "login", now=now, staff_id=user.id)
            login_limits.forget_old_failures(session, now)
            return user
        login_limits.record_address_failure(session, address, now)
        if user is None:
            return "failed"
        if locked:
            audit.record(session, "login_locked", now=now, staff_id=user.id,
                         detail="attempt while locked")
            return "locked"
        _count_failure(session, user, now)
        return "failed"


def _verify_once(user: StaffUser | None, password: str) -> bool:
    if user is None:
        verify_against_nothing(password)  # no probing for usernames
        return False
    return verify_password(user, password)


def _count_failure(session: Session, user: StaffUser, now: datetime) -> None:
    user.failed_logins = (user.failed_logins or 0) + 1
    lock = login_limits.account_lock(user.failed_logins)
    if lock is None:
        audit.record(session, "login_failed", now=now, staff_id=user.id)
        return
    user.locked_until = now + lock
    audit.record(session, "login_locked", now=now, staff_id=user.id,
                 detail=f"locked for {int(lock.total_seconds())} seconds")


def address_key(address: str | None = None) -> str:
    """The client address (as the trusted proxy saw it), hashed with the app secret: the
    limit needs equality, not the address itself."""
    address = address or request.remote_addr or "unknown"
    secret = str(current_app.config.get("SECRET_KEY", "")).encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


def _safe_next(target: str | None) -> str:
    default = url_for("staff.queue")
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not parsed.path.startswith("/staff"):
        return default
    return target

