"""Cases (/staff, /staff/cases, /staff/referrals): the queue, the case page, claim, answer,
refer, close."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import services
from bot.staff import labels, pii_reveal
from bot.staff.forms import (
    ActionForm,
    CloseForm,
    NoteForm,
    ReferralForm,
    ReplyForm,
    choices,
)
from handlers import casework, sla
from storage import audit, cases
from storage.db import transaction
from storage.models import Booking, Case, StaffUser, utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")


# -- helpers ------------------------------------------------------------------------


def windows() -> dict[str, str]:
    """Window (agency) id → name, from the content pack."""
    try:
        from handlers.content import load_pack

        return {a.id: a.name for a in load_pack().agencies}
    except Exception:  # noqa: BLE001 (the console must open even with a broken pack)
        return {}


def staff_names(session: Session) -> dict[int, str]:
    return {u.id: u.display_name or u.username for u in session.scalars(select(StaffUser))}


def _case_or_404(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        abort(404)
    return case


def _reveal_key(case_id: int) -> str:
    return f"case:{case_id}"


def _form_ok(form: Any) -> bool:
    if form.validate_on_submit():
        return True
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
    return False


# -- queue ------------------------------------------------------------------------------


@bp.get("")
def queue() -> str:
    now = utcnow()
    status = request.args.get("status", "open")
    statuses = cases.OPEN_STATUSES if status == "open" else (
        (status,) if status in cases.STATUS_LABELS else cases.OPEN_STATUSES)
    topic = request.args.get("topic") or None
    window = request.args.get("window") or None
    mine = request.args.get("mine") == "1"
    goal = services().config.sla
    with services().factory() as session:
        items = cases.queue(session, statuses=statuses, topic=topic, window_id=window,
                            assignee_id=current_user.id if mine else None)
        if status == "closed":
            items = items[:200]  # the newest closed ones are what anyone looks for
        rows = [(item, sla.sla_state(item.case, now, goal)) for item in items]
        names = staff_names(session)
        unconfirmed = len(cases.unconfirmed_referrals(session))
    return render_template(
        "staff/queue.html", rows=rows, names=names, now=now, windows=windows(),
        topics=labels.topic_labels(), filters={"status": status, "topic": topic or "",
                                               "window": window or "", "mine": mine},
        unconfirmed=unconfirmed,
    )


@bp.post("/cases/<int:case_id>/claim")
def claim(case_id: int) -> Any:
    if not _form_ok(ActionForm()):
        return redirect(url_for("staff.queue"))
    with transaction(services().factory) as session:
        result = casework.claim(session, case_id, current_user.id, utcnow())
        owner = session.get(StaffUser, result.owner_id) if result.owner_id else None
    if result.case is None:
        abort(404)
    if result.won:
        flash(f"相談 #{case_id} を担当しました。")
        return redirect(url_for("staff.case", case_id=case_id))
    who = (owner.display_name or owner.username) if owner else "ほかの職員"
    flash(f"相談 #{case_id} はすでに{who}さんが担当しています。", "error")
    return redirect(url_for("staff.queue"))


@bp.post("/cases/<int:case_id>/release")
def release(case_id: int) -> Any:
    if _form_ok(ActionForm()):
        try:
            with transaction(services().factory) as session:
                case = _case_or_404(session, case_id)
                casework.release(session, case, current_user.id, utcnow())
            flash(f"相談 #{case_id} を未対応に戻しました。")
        except cases.CaseError as exc:
            flash(str(exc), "error")
    return redirect(url_for("staff.case", case_id=case_id))


# -- the case page ---------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
def case(case_id: int) -> str:
    now = utcnow()
    revealed = pii_reveal.shown(_reveal_key(case_id), now)
    with transaction(services().factory) as session:
        found = _case_or_404(session, case_id)
        messages = cases.conversation(session, found)
        audit.record(session, "view_case", now=now, staff_id=current_user.id,
                     case_id=found.id, resident_alias=found.resident_alias,
                     detail=f"{len(messages)} messages" + (", revealed" if revealed else ""))
        context = _case_context(session, found, now)
    referral_form = ReferralForm()
    referral_form.window_id.choices = choices([("", "選んでください"), *windows().items()])
    return render_template(
        "staff/case.html", case=found, messages=messages, revealed=revealed, now=now,
        reply_form=ReplyForm(), note_form=NoteForm(), referral_form=referral_form,
        close_form=CloseForm(), windows=windows(), **context,
    )


def _case_context(session: Session, found: Case, now: datetime) -> dict[str, Any]:
    return {
        "sla": sla.sla_state(found, now, services().config.sla),
        "names": staff_names(session),
        "notes": cases.notes(session, found.id),
        "referrals": cases.referrals(session, found.id),
        "booking": _booking(session, found),
        "trail": audit.for_case(session, found.id, limit=30),
        "mine": found.assignee_id == current_user.id,
    }


def _booking(session: Session, found: Case) -> Any:
    """The linked appointment, if any."""
    if found.booking_id:
        return session.get(Booking, found.booking_id)
    return session.scalar(select(Booking).where(Booking.case_id == found.id)
                          .order_by(Booking.id.desc()).limit(1))


@bp.get("/cases/<int:case_id>/messages")
def messages(case_id: int) -> Any:
    """New messages after ?after=<id>, as list items (the page polls this)."""
    after = request.args.get("after", "0")
    after_id = int(after) if after.isdigit() else 0
    now = utcnow()
    revealed = pii_reveal.shown(_reveal_key(case_id), now)
    with transaction(services().factory) as session:
        found = _case_or_404(session, case_id)
        rows = cases.conversation(session, found, after_id=after_id)
        if rows:
            audit.record(session, "view_messages", now=now, staff_id=current_user.id,
                         case_id=found.id, resident_alias=found.resident_alias,
                         detail=f"{len(rows)} new messages" + (", revealed" if revealed else ""))
        names = staff_names(session)
    html = render_template("staff/_messages.html", messages=rows, revealed=revealed,
                           names=names, case=found)
    return html, 200, {"Cache-Control": "no-store", "X-Case-Status": found.status}


@bp.post("/cases/<int:case_id>/reveal")
def reveal(case_id: int) -> Any:
    if _form_ok(ActionForm()):
        now = utcnow()
        with transaction(services().factory) as session:
            found = _case_or_404(session, case_id)
            audit.record(session, "reveal_pii", now=now, staff_id=current_user.id,
                         case_id=found.id, resident_alias=found.resident_alias)
        pii_reveal.show(_reveal_key(case_id), now)
    return redirect(url_for("staff.case", case_id=case_id) + "#conversation")


@bp.post("/cases/<int:case_id>/hide")
def hide(case_id: int) -> Any:
    if _form_ok(ActionForm()):
        pii_reveal.hide(_reveal_key(case_id), utcnow())
    return redirect(url_for("staff.case", case_id=case_id) + "#conversation")


def _act(case_id: int, form: Any, work: Any, done: str, anchor: str = "") -> Any:
    """Validate, run `work(session, case, now)` in one transaction, report, go back."""
    if _form_ok(form):
        try:
            with transaction(services().factory) as session:
                work(session, _case_or_404(session, case_id), utcnow())
            flash(done)
        except cases.CaseError as exc:
            flash(str(exc), "error")
    return redirect(url_for("staff.case", case_id=case_id) + anchor)


@bp.post("/cases/<int:case_id>/reply")
def reply(case_id: int) -> Any:
    form = ReplyForm()
    return _act(case_id, form, lambda s, c, now: casework.reply(
        s, c, current_user.id, form.text.data or "", now), "返信を送信しました。", "#reply")


@bp.post("/cases/<int:case_id>/notes")
def note(case_id: int) -> Any:
    form = NoteForm()
    return _act(case_id, form, lambda s, c, now: casework.add_note(
        s, c, current_user.id, form.text.data or "", now), "メモを追加しました。", "#notes")


@bp.post("/cases/<int:case_id>/referrals")
def refer(case_id: int) -> Any:
    form = ReferralForm()
    known = windows()
    form.window_id.choices = choices(known.items())
    return _act(case_id, form, lambda s, c, now: casework.refer(
        s, c, current_user.id, form.window_id.data or "", form.note.data, now, set(known)),
        "紹介を記録しました。受理の連絡があったら「受理を確認」を押してください。", "#referrals")


@bp.post("/referrals/<int:referral_id>/<any(confirm, decline):decision>")
def referral_decision(referral_id: int, decision: str) -> Any:
    back = request.form.get("back") == "list"
    case_id = None
    if _form_ok(ActionForm()):
        try:
            with transaction(services().factory) as session:
                status = "confirmed" if decision == "confirm" else "declined"
                case_id = casework.set_referral(session, referral_id, status, current_user.id,
                                               utcnow())
            flash("紹介先の受理を記録しました。" if decision == "confirm"
                  else "紹介先の辞退を記録しました。")
        except cases.CaseError as exc:
            flash(str(exc), "error")
    if back or case_id is None:
        return redirect(url_for("staff.referral_list"))
    return redirect(url_for("staff.case", case_id=case_id) + "#referrals")


@bp.post("/cases/<int:case_id>/close")
def close(case_id: int) -> Any:
    form = CloseForm()
    watch = None
    if form.watch.data:
        watch = casework.WatchRequest(
            weekdays=tuple(form.watch_weekdays.data or ()), at=form.watch_time.data or "",
            consent_by=(form.watch_consent_by.data or "").strip())
    return _act(case_id, form, lambda s, c, now: casework.close(
        s, c, current_user, form.outcome.data or "", now, watch=watch),
        "ケースを終了しました。相談者には終了のメッセージを送り、以後は自動応答に戻ります。")


# -- referrals awaiting confirmation ------------------------------------------------------------


@bp.get("/referrals")
def referral_list() -> str:
    now = utcnow()
    with services().factory() as session:
        pending = cases.unconfirmed_referrals(session)
        by_case = {r.case_id: session.get(Case, r.case_id) for r in pending}
        names = staff_names(session)
    return render_template("staff/referrals.html", referrals=pending, cases_by_id=by_case,
                           windows=windows(), names=names, now=now)
