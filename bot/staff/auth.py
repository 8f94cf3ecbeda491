"""Staff sign-in: argon2 passwords, Flask-Login sessions, lockout and a per-address limit."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import delete, func, select

from bot.services import services
from bot.staff.forms import ActionForm, LoginForm
from storage import audit
from storage.db import transaction
from storage.models import StaffUser, utcnow
from storage.models.handoff import LoginAttempt
from storage.staff import verify_password

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")
login_manager = LoginManager()
login_manager.login_view = "staff_auth.login"
login_manager.login_message = "ログインしてください。"
login_manager.session_protection = "strong"

MAX_FAILURES = 5  # per account, then a lockout
LOCKOUT = timedelta(minutes=15)
IP_WINDOW = timedelta(minutes=15)
IP_MAX_FAILURES = 20  # per client address in IP_WINDOW, across accounts
TOO_MANY = "ログインの試行が多すぎます。しばらくしてからお試しください。"
GENERIC_FAILURE = "ユーザー名またはパスワードが違うか、アカウントが一時的にロックされています。"
F = TypeVar("F", bound=Callable[..., Any])


class Staff(UserMixin):
    """The signed-in staff member for this request (a plain snapshot, not a DB row)."""

    def __init__(self, user: StaffUser) -> None:
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name or user.username
        self.role = user.role
        self.is_supervisor = user.is_supervisor
        self._stamp = _stamp(user)

    def get_id(self) -> str:
        # Changing the password (or deactivating) ends every other session of the account.
        return f"{self.id}.{self._stamp}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_edit_content(self) -> bool:
        """Admins and editors change the FAQ, windows, hours, hotlines and wording."""
        return self.role in ("admin", "editor")


def _stamp(user: StaffUser) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@login_manager.user_loader
def load_user(user_id: str) -> Staff | None:
    ident, _, stamp = user_id.partition(".")
    if not ident.isdigit():
        return None
    with services().factory() as session:
        user = session.get(StaffUser, int(ident))
        if user is None or not user.active or not hmac.compare_digest(_stamp(user), stamp):
            return None
        return Staff(user)


@login_manager.unauthorized_handler
def unauthorized() -> Any:
    if request.headers.get("X-Requested-With") == "fetch":
        abort(401)
    return redirect(url_for("staff_auth.login", next=request.full_path.rstrip("?")))


def admin_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def require_login() -> Any:
    """before_request for every staff blueprint: nothing is visible without signing in."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


# -- views ----------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        return render_template("staff/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("staff/login.html", form=form), 400
    outcome = attempt_login(form.username.data or "", form.password.data or "", _ip_key())
    if outcome == "ip_limited":
        return render_template("staff/login.html", form=form,
                               error=TOO_MANY), 429
    if not isinstance(outcome, StaffUser):
        return render_template("staff/login.html", form=form, error=GENERIC_FAILURE), 401
    flask_session.clear()  # a fresh session: nothing from before sign-in carries over
    flask_session.permanent = True
    login_user(Staff(outcome))
    return redirect(_safe_next(form.next.data))


@bp.post("/logout")
def logout() -> Any:
    if current_user.is_authenticated and ActionForm().validate_on_submit():
        with transaction(services().factory) as session:
            audit.record(session, "logout", now=utcnow(), staff_id=current_user.id)
        logout_user()
        flask_session.clear()
        flash("ログアウトしました。")
    return redirect(url_for("staff_auth.login"))


def attempt_login(username: str, password: str, ip_key: str,
                  now: datetime | None = None) -> StaffUser | str:
    """A StaffUser on success, else "ip_limited" / "locked" / "failed"."""
    now = now or utcnow()
    with transaction(services().factory) as session:
        recent = session.scalar(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.ip_key == ip_key, LoginAttempt.created_at > now - IP_WINDOW)) or 0
        if recent >= IP_MAX_FAILURES:
            return "ip_limited"
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is not None and user.locked_until is not None and user.locked_until > now:
            session.add(LoginAttempt(ip_key=ip_key, created_at=now))
            audit.record(session, "login_locked", now=now, staff_id=user.id)
            return "locked"
        ok = user is not None and user.active and verify_password(user, password)
        if user is None:
            _waste_time(password)  # same cost as a real check: no probing for usernames
        if not ok:
            _failed(session, user, ip_key, now)
            return "failed"
        user.failed_logins, user.locked_until = 0, None
        audit.record(session, "login", now=now, staff_id=user.id)
        session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < now - IP_WINDOW))
        return user


def _failed(session: Any, user: StaffUser | None, ip_key: str, now: datetime) -> None:
    session.add(LoginAttempt(ip_key=ip_key, created_at=now))
    if user is None:
        return
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until, user.failed_logins = now + LOCKOUT, 0
        audit.record(session, "login_locked", now=now, staff_id=user.id,
                     detail=f"locked for {int(LOCKOUT.total_seconds() // 60)} minutes")
    else:
        audit.record(session, "login_failed", now=now, staff_id=user.id)


_DUMMY_HASH: list[str] = []


def _waste_time(password: str) -> None:
    from storage.staff import _hasher

    if not _DUMMY_HASH:
        _DUMMY_HASH.append(_hasher.hash("not-a-real-password"))
    with contextlib.suppress(Exception):  # a mismatch is the expected outcome
        _hasher.verify(_DUMMY_HASH[0], password)


def _ip_key() -> str:
    # Hashed with the app secret: the limit needs equality, not the address itself.
    address = request.remote_addr or "unknown"
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
