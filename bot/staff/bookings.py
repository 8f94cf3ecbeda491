"""Bookings (/staff/bookings): windows' availability, the day view, and calendar feeds.

Pages need a signed-in staff member (the console's guard). The iCalendar feed of a window is
also reachable without signing in through its secret URL, so a calendar app can
subscribe; rotating the token revokes every old URL. Feeds carry aliases only.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from bot.services import services
from bot.staff import pii_reveal
from bot.staff.auth import current_staff_id
from common.clock import TOKYO
from handlers.content import Agency, load_pack
from handlers.flows.booking import cancel_slot_and_notify, close_day_and_notify
from storage import audit, bookings
from storage.bookings import BookingError
from storage.db import transaction
from storage.models import utcnow
from storage.models.booking import MODES, Slot

bp = Blueprint("staff_bookings", __name__, url_prefix="/staff/bookings")

FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")  # secrets.token_urlsafe
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=120)
STATUS_LABELS = {"booked": "予約", "attended": "来談", "no_show": "不在", "cancelled": "取消"}


def _audit(session: Session, action: str, detail: str) -> None:
    audit.record(session, action, now=utcnow(), staff_id=current_staff_id(), detail=detail)


def bookable_windows() -> list[Agency]:
    return [a for a in load_pack().agencies if a.bookable]


def _window_or_404(window_id: str) -> Agency:
    agency = next((a for a in bookable_windows() if a.id == window_id), None)
    if agency is None:
        abort(404)
    return agency


def _today() -> date:
    return utcnow().astimezone(TOKYO).date()


# -- pages --------------------------------------------------------------------------------


@bp.get("")
def index() -> str:
    today = _today()
    start = datetime.combine(today, time(0), TOKYO)
    with services().factory() as session:
        rows = [{
            "agency": agency,
            "week": len(bookings.window_bookings(session, agency.id, start=start,
                                                 end=start + timedelta(days=7))),
            "availability": bookings.active_availability(session, agency.id),
            "closed": bookings.closed_days_from(session, agency.id, today),
        } for agency in bookable_windows()]
    return render_template("staff/bookings/index.html", rows=rows, today=today, modes=MODES,
                           weekdays="月火水木金土日")


@bp.get("/<window_id>")
@bp.get("/<window_id>/<day>")
def day_view(window_id: str, day: str | None = None) -> str:
    agency = _window_or_404(window_id)
    shown = _parse_day(day) if day else _today()
    now = utcnow()
    revealed = pii_reveal.shown(_reveal_key(window_id, shown), now)
    with transaction(services().factory) as session:
        slots = bookings.slots_on(session, window_id, shown)
        by_slot = bookings.bookings_in(session, [s.id for s in slots])
        token = bookings.feed_token(session, window_id, now)
        if revealed and any(by_slot.values()):
            _audit(session, "view_booking_names", f"{window_id} {shown.isoformat()}")
    return render_template(
        "staff/bookings/day.html", agency=agency, day=shown, slots=slots, by_slot=by_slot,
        modes=MODES, labels=STATUS_LABELS, weekday="月火水木金土日"[shown.weekday()],
        prev_day=shown - timedelta(days=1), next_day=shown + timedelta(days=1),
        feed_url=feed_url(window_id, token), revealed=revealed,
        has_names=any(b.nickname for held in by_slot.values() for b in held),
    )


def _reveal_key(window_id: str, day: date) -> str:
    return f"bookings:{window_id}:{day.isoformat()}"


@bp.post("/<window_id>/<day>/reveal")
def reveal(window_id: str, day: str) -> Any:
    """Show the nicknames of a day's bookings for a while; recorded like any personal data."""
    _window_or_404(window_id)
    shown = _parse_day(day)
    now = utcnow()
    with transaction(services().factory) as session:
        _audit(session, "reveal_pii", f"booking nicknames {window_id} {shown.isoformat()}")
    pii_reveal.show(_reveal_key(window_id, shown), now)
    return redirect(url_for("staff_bookings.day_view", window_id=window_id, day=day))


@bp.post("/<window_id>/<day>/hide")
def hide(window_id: str, day: str) -> Any:
    _window_or_404(window_id)
    pii_reveal.hide(_reveal_key(window_id, _parse_day(day)), utcnow())
    return redirect(url_for("staff_bookings.day_view", window_id=window_id, day=day))


def feed_url(window_id: str, token: str) -> str:
    """The subscription URL: from PUBLIC_BASE_URL when set, else as this request reached us
    (https behind a trusted proxy, see TRUSTED_PROXY_COUNT)."""
    path = url_for("staff_bookings.feed", window_id=window_id, token=token)
    base = services().config.public_base_url
    if base:
        return base + path
    return url_for("staff_bookings.feed", window_id=window_id, token=token, _external=True)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(404)


@bp.post("/<window_id>/slots/<int:slot_id>/cancel")
def cancel_slot(window_id: str, slot_id: int) -> Any:
    _window_or_404(window_id)
    reason = (request.form.get("reason") or "").strip()[:100] or "窓口の都合"
    with transaction(services().factory) as session:
        slot = session.get(Slot, slot_id)
        if slot is None or slot.window_id != window_id:
            abort(404)
        told = cancel_slot_and_notify(session, slot_id, reason=reason, now=utcnow(),
                                      staff_id=current_staff_id())
        day = slot.starts_at.astimezone(TOKYO).date()
        _audit(session, "booking_cancel_slot", f"{window_id} slot {slot_id}, {told} told")
    flash(f"枠を取り消しました。予約していた{told}人にお知らせしました。")
    return redirect(url_for("staff_bookings.day_view", window_id=window_id, day=day.isoformat()))


@bp.post("/<window_id>/bookings/<int:booking_id>/attendance")
def attendance(window_id: str, booking_id: int) -> Any:
    _window_or_404(window_id)
    attended = request.form.get("result") == "attended"
    with transaction(services().factory) as session:
        try:
            booking = bookings.record_attendance(session, booking_id, attended=attended,
                                                 staff_id=current_staff_id(), now=utcnow())
        except BookingError as exc:
            flash({"too_early": "予約の1時間前から記録できます。",
                   "cancelled": "取り消された予約です。"}.get(exc.code, "記録できませんでした。"),
                  "error")
            return redirect(url_for("staff_bookings.day_view", window_id=window_id))
        if booking.window_id != window_id:
            abort(404)
        day = booking.starts_at.astimezone(TOKYO).date()
        _audit(session, "booking_attendance",
               f"booking {booking_id}: {'attended' if attended else 'absent'}")
    flash("来談を記録しました。" if attended else "不在を記録しました。")
    return redirect(url_for("staff_bookings.day_view", window_id=window_id, day=day.isoformat()))


@bp.post("/<window_id>/availability")
def add_availability(window_id: str) -> Any:
    _window_or_404(window_id)
    form = request.form
    try:
        weekdays = [int(d) for d in form.getlist("weekdays")]
        with transaction(services().factory) as session:
            now = utcnow()
            bookings.add_availability(
                session, window_id=window_id, weekdays=weekdays, start=form.get("start", ""),
                end=form.get("end", ""), slot_minutes=int(form.get("minutes", "0")),
                capacity=int(form.get("capacity", "0")), mode=form.get("mode", ""),
                location=(form.get("location") or "").strip() or None, now=now,
                valid_from=date.fromisoformat(form.get("valid_from") or _today().isoformat()),
                staff_id=current_staff_id(),
            )
            horizon = timedelta(days=services().config.booking_horizon_days)
            created = bookings.generate_slots(session, now=now, window_id=window_id,
                                              until=_today() + horizon)
            _audit(session, "booking_availability", f"{window_id}: {created} slots published")
    except (BookingError, ValueError) as exc:
        flash(f"登録できませんでした: {exc}", "error")
        return redirect(url_for("staff_bookings.index"))
    flash(f"受付枠を登録し、{created}件の枠を公開しました。")
    return redirect(url_for("staff_bookings.index"))


@bp.post("/<window_id>/closed")
def add_closed_day(window_id: str) -> Any:
    _window_or_404(window_id)
    try:
        day = date.fromisoformat(request.form.get("day", ""))
    except ValueError:
        flash("日付を選んでください。", "error")
        return redirect(url_for("staff_bookings.index"))
    reason = (request.form.get("reason") or "").strip()[:100] or "休業日"
    with transaction(services().factory) as session:
        told = close_day_and_notify(session, window_id=window_id, day=day, reason=reason,
                                    now=utcnow(), staff_id=current_staff_id())
        _audit(session, "booking_closed_day", f"{window_id} {day.isoformat()}, {told} told")
    flash(f"{day:%m/%d}を休みにしました。予約していた{told}人にお知らせしました。")
    return redirect(url_for("staff_bookings.index"))


@bp.post("/<window_id>/feed/rotate")
def rotate_feed(window_id: str) -> Any:
    _window_or_404(window_id)
    with transaction(services().factory) as session:
        bookings.feed_token(session, window_id, utcnow(), rotate=True)
        _audit(session, "booking_feed_rotate", window_id)
    flash("カレンダーのURLを新しくしました。古いURLは使えなくなります。")
    return redirect(url_for("staff_bookings.day_view", window_id=window_id))


# -- calendar feeds -----------------------------------------------------------------------


@bp.get("/<window_id>/calendar.ics")
def calendar(window_id: str) -> Response:
    return _ics(_window_or_404(window_id))


@bp.get("/feed/<window_id>/<token>.ics")
def feed(window_id: str, token: str) -> Response:
    agency = next((a for a in bookable_windows() if a.id == window_id), None)
    if agency is None or not FEED_TOKEN.fullmatch(token):
        abort(404)  # also for a token no URL of ours could carry (non-ASCII, too long)
    with services().factory() as session:
        allowed = bookings.check_feed_token(session, window_id, token)
    if not allowed:
        abort(404)  # the same answer for a wrong token and an unknown window
    return _ics(agency)


def _ics(agency: Agency) -> Response:
    now = utcnow()
    with services().factory() as session:
        held = bookings.window_bookings(session, agency.id, start=now - FEED_PAST,
                                        end=now + FEED_FUTURE)
    body = calendar_ics(agency, held, now)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{agency.id}.ics"'
    return response


def calendar_ics(agency: Agency, held: list[tuple[Any, Slot]], now: datetime) -> bytes:
    """One event per booking; the alias identifies the resident, nothing more."""
    cal = Calendar()
    cal.add("prodid", "-//Madoguchi//bookings//JA")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"相談予約 {agency.name}")
    cal.add("x-wr-timezone", "Asia/Tokyo")
    for booking, slot in held:
        event = Event()
        event.add("uid", f"booking-{booking.id}@madoguchi")
        event.add("summary", f"相談予約 {booking.resident_alias}（{MODES.get(slot.mode, '')}）")
        event.add("dtstart", slot.starts_at.astimezone(TOKYO))
        event.add("dtend", slot.ends_at.astimezone(TOKYO))
        event.add("dtstamp", now)
        if slot.location or agency.address:
            event.add("location", slot.location or agency.address)
        event.add("description", f"状態: {STATUS_LABELS.get(booking.status, booking.status)}")
        cal.add_component(event)
    return cal.to_ical()
