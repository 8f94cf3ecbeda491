"""Staff pages for 見守り check-ins (/staff/checkins): today's check-ins per household, a
household's history, enrolling / pausing / ending, and a CSV export.

Pages need a signed-in staff member (the console's guard). Residents appear by alias only; the
supporter's phone number is shown on the household page (and audited as reveal_pii) and
never exported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import services
from bot.staff.auth import current_staff_id
from common.clock import TOKYO
from storage import audit
from storage import checkins as store
from storage.db import transaction
from storage.models import Checkin, CheckinEnrolment, Resident, utcnow

bp = Blueprint("staff_checkins", __name__, url_prefix="/staff/checkins")

WEEKDAYS = "月火水木金土日"
STATUS_LABELS = {"active": "実施中", "paused": "休止中", "ended": "終了"}
PAUSE_REASONS = ("入院中", "旅行", "施設に短期入所", "本人の希望", "その他")
CSV_DAYS_MAX = 366


@dataclass
class Row:
    enrolment: CheckinEnrolment
    today: list[Checkin] = field(default_factory=list)


def _now() -> datetime:
    return utcnow()


def _day_arg(name: str, default: date) -> date:
    value = request.args.get(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400)


def _audit(session: Session, action: str, enrolment: CheckinEnrolment, detail: str) -> None:
    audit.record(session, action, now=_now(), staff_id=current_staff_id(),
                 case_id=enrolment.case_id, resident_alias=enrolment.resident_alias,
                 detail=f"見守り: {detail}")


# -- pages ---------------------------------------------------------------------------


@bp.get("")
def index() -> str:
    day = _day_arg("day", _now().astimezone(TOKYO).date())
    start, end = store.day_bounds(day)
    with services().factory() as session:
        rows = {e.id: Row(e) for e in store.enrolments(session)}
        occurrences = store.between(session, start, end)
    for checkin in occurrences:
        if checkin.enrolment_id in rows:
            rows[checkin.enrolment_id].today.append(checkin)
    counts = {state: 0 for state in ("sent", "answered", "waiting", "escalated", "missed")}
    for checkin in occurrences:
        state = store.state_of(checkin)
        counts["sent"] += checkin.sent_at is not None
        counts["answered"] += state in ("answered", "concern", "replied")
        counts["waiting"] += state == "waiting"
        counts["escalated"] += state == "escalated"
        counts["missed"] += state == "missed"
    return render_template(
        "staff/checkins/index.html", rows=list(rows.values()), day=day, counts=counts,
        prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
        state_of=store.state_of, state_labels=store.STATE_LABELS,
        answer_labels=store.ANSWER_LABELS, status_labels=STATUS_LABELS, describe=_describe,
        weekdays=WEEKDAYS,
    )


@bp.get("/<int:enrolment_id>")
def household(enrolment_id: int) -> str:
    with transaction(services().factory) as session:
        enrolment = session.get(CheckinEnrolment, enrolment_id) or abort(404)
        history = store.recent(session, enrolment.id, 60)
        if enrolment.supporter_phone:
            _audit(session, "reveal_pii", enrolment, "支援者の電話番号を表示")
    return render_template(
        "staff/checkins/household.html", e=enrolment, history=history,
        state_of=store.state_of, state_labels=store.STATE_LABELS,
        answer_labels=store.ANSWER_LABELS, status_labels=STATUS_LABELS,
        describe=_describe(enrolment), pause_reasons=PAUSE_REASONS, weekdays=WEEKDAYS,
        today=_now().astimezone(TOKYO).date(),
    )


def _describe(enrolment: CheckinEnrolment) -> str:
    parts = store.view(enrolment)
    text = parts.schedule.describe()
    if parts.quiet:
        text += f"（{enrolment.quiet_start}〜{enrolment.quiet_end}は送らない）"
    return text


# -- actions -------------------------------------------------------------------------


@bp.post("/enrol")
def enrol() -> Any:
    form = request.form
    try:
        request_ = _enrolment_request(form)
    except store.CheckinError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    with transaction(services().factory) as session:
        resident = session.scalar(select(Resident).where(Resident.alias == request_.alias))
        if resident is None:
            flash(f"{request_.alias} という相談者は見つかりません。", "error")
            return redirect(url_for(".index"))
        try:
            enrolment = store.enrol(
                session, resident, request_.schedule, consent_by=request_.consent_by,
                consent_at=request_.consent_at, now=_now(), quiet=request_.quiet,
                ladder=request_.ladder, supporter=request_.supporter, staff_id=current_staff_id(),
            )
        except store.CheckinError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        _audit(session, "checkin_enrol", enrolment, "登録・変更")
        enrolment_id = enrolment.id
    flash(f"{request_.alias} の見守りを登録しました。", "ok")
    return redirect(url_for(".household", enrolment_id=enrolment_id))


@dataclass(frozen=True)
class EnrolmentRequest:
    alias: str
    schedule: store.Schedule
    quiet: store.QuietHours | None
    ladder: store.Ladder
    supporter: store.Supporter | None
    consent_by: str
    consent_at: datetime


def _enrolment_request(form: Any) -> EnrolmentRequest:
    alias = (form.get("alias") or "").strip().upper()
    if not alias:
        raise store.CheckinError("相談者の番号（R-…）を入力してください。")
    at = store.parse_hhmm(form.get("at") or "10:00")
    every = form.get("every_days", "").strip()
    if every:
        schedule = store.Schedule.every(_int(every, "間隔"), at, _date(form.get("start")))
    else:
        schedule = store.Schedule.weekly([_int(d, "曜日") for d in form.getlist("weekdays")], at)
    quiet = None
    if form.get("quiet_start") and form.get("quiet_end"):
        quiet = store.QuietHours(store.parse_hhmm(form["quiet_start"]),
                                 store.parse_hhmm(form["quiet_end"]))
    ladder = store.Ladder(timedelta(minutes=_int(form.get("remind_after", "180"), "再送")),
                          timedelta(minutes=_int(form.get("escalate_after", "180"), "連絡")))
    supporter = None
    if (form.get("supporter_name") or "").strip():
        supporter = store.Supporter(form["supporter_name"].strip(),
                                    (form.get("supporter_role") or "民生委員").strip(),
                                    (form.get("supporter_phone") or "").strip() or None)
    consent_by = (form.get("consent_by") or "").strip()
    consent_day = _date(form.get("consent_date"))
    consent_at = datetime.combine(consent_day, datetime.min.time(), tzinfo=TOKYO)
    if consent_day > _now().astimezone(TOKYO).date():
        raise store.CheckinError("同意日に未来の日付は入れられません。")
    return EnrolmentRequest(alias, schedule, quiet, ladder, supporter, consent_by, consent_at)


def _int(value: str, label: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise store.CheckinError(f"{label}は数字で入力してください。") from None


def _date(value: str | None) -> date:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise store.CheckinError("日付を入力してください。") from None


@bp.post("/<int:enrolment_id>/pause")
def pause(enrolment_id: int) -> Any:
    until = request.form.get("until") or None
    with transaction(services().factory) as session:
        enrolment = session.get(CheckinEnrolment, enrolment_id) or abort(404)
        try:
            store.pause(session, enrolment, request.form.get("reason") or "休止", _now(),
                        until=date.fromisoformat(until) if until else None)
        except (store.CheckinError, ValueError) as exc:
            flash(str(exc), "error")
            return redirect(url_for(".household", enrolment_id=enrolment_id))
        # The reason (入院中 …) is health information: it stays in the encrypted enrolment.
        _audit(session, "checkin_pause", enrolment, "休止")
    flash("見守りを休止しました。休止中は何も送りません。", "ok")
    return redirect(url_for(".household", enrolment_id=enrolment_id))


@bp.post("/<int:enrolment_id>/resume")
def resume(enrolment_id: int) -> Any:
    with transaction(services().factory) as session:
        enrolment = session.get(CheckinEnrolment, enrolment_id) or abort(404)
        store.resume(session, enrolment, _now())
        _audit(session, "checkin_resume", enrolment, "再開")
    flash("見守りを再開しました。", "ok")
    return redirect(url_for(".household", enrolment_id=enrolment_id))


@bp.post("/<int:enrolment_id>/end")
def end(enrolment_id: int) -> Any:
    with transaction(services().factory) as session:
        enrolment = session.get(CheckinEnrolment, enrolment_id) or abort(404)
        store.end(session, enrolment, request.form.get("reason") or "終了", _now())
        _audit(session, "checkin_end", enrolment, "終了")
    flash("見守りを終了しました。", "ok")
    return redirect(url_for(".household", enrolment_id=enrolment_id))


@bp.get("/export.csv")
def export_csv() -> Response:
    today = _now().astimezone(TOKYO).date()
    first = _day_arg("from", today - timedelta(days=30))
    last = _day_arg("to", today)
    if last < first or (last - first).days > CSV_DAYS_MAX:
        abort(400)
    start, _ = store.day_bounds(first)
    _, end_ = store.day_bounds(last)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["alias", "due_at", "sent_at", "state", "answer", "answered_at",
                     "reminded_at", "escalated_at", "case_id", "note"])
    with transaction(services().factory) as session:
        aliases = dict(session.execute(
            select(CheckinEnrolment.id, CheckinEnrolment.resident_alias)).all())
        for c in store.between(session, start, end_):
            writer.writerow([
                aliases.get(c.enrolment_id, ""), _iso(c.due_at), _iso(c.sent_at),
                store.state_of(c), c.answer or "", _iso(c.answered_at), _iso(c.reminded_at),
                _iso(c.escalated_at), c.case_id or "", c.note or "",
            ])
        audit.record(session, "export_csv", now=_now(), staff_id=current_staff_id(),
                     detail=f"見守り {first}〜{last}")
    # A BOM so that Excel, which many city offices use, reads the Japanese correctly.
    body = "\ufeff" + buffer.getvalue()
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="checkins_{first}_{last}.csv"'})


def _iso(value: datetime | None) -> str:
    return value.astimezone(TOKYO).isoformat(timespec="minutes") if value else ""
