"""Admin pages: staff accounts (roles, lockouts, Slack ids), the windows of the pack, and the
audit log (who saw or did what), filtered on screen or exported as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from bot.services import services
from bot.staff import labels
from bot.staff.forms import ROLES, StaffCreateForm, StaffUpdateForm
from common.clock import TOKYO
from storage import audit
from storage.db import transaction
from storage.models import StaffUser, utcnow
from storage.staff import StaffError, create_staff, set_password

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/admin")


@bp.before_request
def admins_only() -> None:
    """Runs after the console's sign-in guard: only the role is left to check."""
    if current_user.is_authenticated and not current_user.is_admin:
        abort(403)


@bp.get("/staff")
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
        set_password(user, form.new_password.data)
        changes.append("password")
    if user.locked_until is not None and (form.new_password.data or "active" in changes):
        user.locked_until, user.failed_logins = None, 0
        changes.append("unlocked")
    return changes


@bp.get("/windows")
def windows() -> str:
    """The pack's windows: referral targets. Edited in the content pack files."""
    try:
        from handlers.content import load_pack

        pack = load_pack()
        agencies, pack_id = list(pack.agencies), pack.meta.id
    except Exception:  # noqa: BLE001 (show the page; the pack error is logged at start-up)
        agencies, pack_id = [], "?"
    return render_template("staff/admin_windows.html", agencies=agencies, pack_id=pack_id)


# -- the audit log -----------------------------------------------------------------

AUDIT_PAGE = 200
AUDIT_CSV_MAX = 100_000


def _audit_filter() -> tuple[audit.Filter, dict[str, str]]:
    """The filter from the query string; a value that cannot be read is left out (and shown
    as entered, so the admin sees what was ignored)."""
    args = {key: (request.args.get(key) or "").strip() for key in
            ("staff", "action", "case", "alias", "from", "to")}
    first, last = _day(args["from"]), _day(args["to"])
    where = audit.Filter(
        staff_id=int(args["staff"]) if args["staff"].isdigit() else None,
        action=args["action"] if args["action"] in audit.ACTIONS else None,
        case_id=int(args["case"]) if args["case"].isdigit() else None,
        resident_alias=args["alias"].upper() or None,
        start=datetime.combine(first, time(0), TOKYO) if first else None,
        end=datetime.combine(last + timedelta(days=1), time(0), TOKYO) if last else None,
    )
    return where, args


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.get("/audit")
def audit_log() -> str:
    where, args = _audit_filter()
    before = request.args.get("before", "")
    with services().factory() as session:
        entries = audit.search(session, where, limit=AUDIT_PAGE,
                               before_id=int(before) if before.isdigit() else None)
        users = list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
    return render_template(
        "staff/admin_audit.html", entries=entries, users=users, args=args,
        query={key: value for key, value in args.items() if value},
        names={u.id: u.display_name or u.username for u in users}, actions=audit.ACTIONS,
        older=entries[-1].id if len(entries) == AUDIT_PAGE else None)


@bp.get("/audit.csv")
def audit_csv() -> Response:
    where, args = _audit_filter()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "time", "staff_id", "staff", "action", "action_label", "case_id",
                     "resident_alias", "detail"])
    with transaction(services().factory) as session:
        names = {u.id: u.username for u in session.scalars(select(StaffUser))}
        for entry in audit.search(session, where, limit=AUDIT_CSV_MAX):
            writer.writerow([
                entry.id, entry.created_at.astimezone(TOKYO).isoformat(timespec="seconds"),
                entry.staff_id or "", names.get(entry.staff_id or 0, ""), entry.action,
                labels.AUDIT_LABELS.get(entry.action, entry.action), entry.case_id or "",
                entry.resident_alias or "", entry.detail or "",
            ])
        shown = " ".join(f"{k}={v}" for k, v in args.items() if v)
        audit.record(session, "export_csv", now=utcnow(), staff_id=current_user.id,
                     detail=f"audit log {shown}".strip())
    # A BOM so Excel (as used in city offices) opens the Japanese text correctly.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="madoguchi-audit-log.csv"',
        "Cache-Control": "no-store"})
