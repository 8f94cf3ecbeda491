"""Admin pages: staff accounts (roles, lockouts, Slack ids) and the windows of the pack."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from bot.services import services
from bot.staff.auth import admin_required, require_login
from bot.staff.forms import ROLES, StaffCreateForm, StaffUpdateForm
from storage import audit
from storage.db import transaction
from storage.models import StaffUser, utcnow
from storage.staff import StaffError, _hasher, create_staff

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/admin")
bp.before_request(require_login)


@bp.before_request
def admins_only() -> None:
    if current_user.is_authenticated and not current_user.is_admin:
        abort(403)


@bp.get("/staff")
@admin_required
def staff_list() -> str:
    with services().factory() as session:
        users = list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
    forms = {}
    for user in users:
        form = StaffUpdateForm(prefix=f"u{user.id}", data={
            "role": user.role, "active": user.active, "is_supervisor": user.is_supervisor,
            "slack_user_id": user.slack_user_id or ""})
        forms[user.id] = form
    return render_template("staff/admin_staff.html", users=users, forms=forms,
                           create_form=StaffCreateForm(), now=utcnow())


@bp.post("/staff")
@admin_required
def staff_create() -> Any:
    form = StaffCreateForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("staff_admin.staff_list"))
    try:
        with transaction(services().factory) as session:
            user = create_staff(session, form.username.data or "", form.password.data or "",
                                form.role.data or "coordinator",
                                display_name=form.display_name.data or "")
            audit.record(session, "staff_create", now=utcnow(), staff_id=current_user.id,
                         detail=f"user={user.id} role={user.role}")
        flash(f"職員アカウント {form.username.data} を作成しました。")
    except StaffError as exc:
        flash(str(exc), "error")
    return redirect(url_for("staff_admin.staff_list"))


@bp.post("/staff/<int:user_id>")
@admin_required
def staff_update(user_id: int) -> Any:
    form = StaffUpdateForm(prefix=f"u{user_id}")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("staff_admin.staff_list"))
    with transaction(services().factory) as session:
        user = session.get(StaffUser, user_id)
        if user is None:
            abort(404)
        if user.id == current_user.id and (form.role.data != "admin" or not form.active.data):
            flash("自分自身の管理者権限や有効状態は変更できません。", "error")
            return redirect(url_for("staff_admin.staff_list"))
        changes = _apply(user, form)
        audit.record(session, "staff_update", now=utcnow(), staff_id=current_user.id,
                     detail=f"user={user.id} " + ",".join(changes))
    flash(f"{user.username} を更新しました。")
    return redirect(url_for("staff_admin.staff_list"))


def _apply(user: StaffUser, form: StaffUpdateForm) -> list[str]:
    changes = []
    if form.role.data in ROLES and form.role.data != user.role:
        user.role = form.role.data
        changes.append("role")
    for name in ("active", "is_supervisor"):
        value = bool(getattr(form, name).data)
        if getattr(user, name) != value:
            setattr(user, name, value)
            changes.append(name)
    slack_id = (form.slack_user_id.data or "").strip() or None
    if slack_id != user.slack_user_id:
        user.slack_user_id = slack_id
        changes.append("slack_user_id")
    if form.new_password.data:
        user.password_hash = _hasher.hash(form.new_password.data)
        changes.append("password")
    if user.locked_until is not None and (form.new_password.data or "active" in changes):
        user.locked_until, user.failed_logins = None, 0
        changes.append("unlocked")
    return changes


@bp.get("/windows")
@admin_required
def windows() -> str:
    """The pack's windows: referral targets. Edited in the content pack files."""
    try:
        from handlers.content import load_pack

        pack = load_pack()
        agencies, pack_id = list(pack.agencies), pack.meta.id
    except Exception:  # noqa: BLE001 (show the page; the pack error is logged at start-up)
        agencies, pack_id = [], "?"
    return render_template("staff/admin_windows.html", agencies=agencies, pack_id=pack_id)
