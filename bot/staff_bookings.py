"""Staff booking administration: console pages (/staff/bookings), calendar feeds, `slots` CLI.

Pages need a signed-in staff member (bot.staff.auth). The iCalendar feed of a window is
also reachable without signing in through its secret URL, so a calendar app can
subscribe; rotating the token revokes every old URL. Feeds carry aliases only.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from icalendar import Calendar, Event
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bot.config import Config
from bot.services import build_services, services
from common.clock import TOKYO
from handlers.content import Agency, load_pack
from handlers.flows.booking import cancel_slot_and_notify, close_day_and_notify
from storage import audit, bookings
from storage.bookings import BookingError
from storage.db import transaction
from storage.models import utcnow
from storage.models.booking import MODES, Availability, ClosedDay, Slot

bp = Blueprint("staff_bookings", __name__, url_prefix="/staff/bookings")

HORIZON_DAYS = 21  # slots are published this far ahead when availability is added
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=120)
STATUS_LABELS = {"booked": "予約", "attended": "来談", "no_show": "不在", "cancelled": "取消"}
PUBLIC_ENDPOINTS = {"staff_bookings.feed"}


@bp.before_request
def _signed_in() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None  # the secret token is the credential
    from bot.staff.auth import require_login

    return require_login()


@bp.app_template_filter("hhmm")
def _hhmm(value: datetime) -> str:
    return value.astimezone(TOKYO).strftime("%H:%M")


def _audit(session: Session, action: str, detail: str) -> None:
    audit.record(session, action, now=utcnow(), staff_id=_staff_id(), detail=detail)


def _windows() -> list[Agency]:
    return [a for a in load_pack().agencies if a.bookable]


def _window_or_404(window_id: str) -> Agency:
    agency = next((a for a in _windows() if a.id == window_id), None)
    if agency is None:
        abort(404)
    return agency


def _today() -> date:
    return utcnow().astimezone(TOKYO).date()


def _staff_id() -> int | None:
    return getattr(current_user, "id", None)


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
            "availability": session.scalars(select_availability(agency.id)).all(),
            "closed": session.scalars(select(ClosedDay).where(
                ClosedDay.window_id == agency.id, ClosedDay.day >= today
            ).order_by(ClosedDay.day)).all(),
        } for agency in _windows()]
    return render_template("staff_bookings/index.html", rows=rows, today=today, modes=MODES,
                           weekdays="月火水木金土日")


def select_availability(window_id: str) -> Select:
    return (select(Availability)
            .where(Availability.window_id == window_id, Availability.active.is_(True))
            .order_by(Availability.id))


@bp.get("/<window_id>")
@bp.get("/<window_id>/<day>")
def day_view(window_id: str, day: str | None = None) -> str:
    agency = _window_or_404(window_id)
    shown = _parse_day(day) if day else _today()
    with transaction(services().factory) as session:
        slots = bookings.slots_on(session, window_id, shown)
        by_slot = bookings.bookings_in(session, [s.id for s in slots])
        token = bookings.feed_token(session, window_id, utcnow())
    return render_template(
        "staff_bookings/day.html", agency=agency, day=shown, slots=slots, by_slot=by_slot,
        modes=MODES, labels=STATUS_LABELS, weekday="月火水木金土日"[shown.weekday()],
        prev_day=shown - timedelta(days=1), next_day=shown + timedelta(days=1),
        feed_url=url_for("staff_bookings.feed", window_id=window_id, token=token,
                         _external=True),
    )


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
                                      staff_id=_staff_id())
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
                                                 staff_id=_staff_id(), now=utcnow())
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
                staff_id=_staff_id(),
            )
            created = bookings.generate_slots(session, now=now, window_id=window_id,
                                              until=_today() + timedelta(days=HORIZON_DAYS))
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
                                    now=utcnow(), staff_id=_staff_id())
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
    agency = next((a for a in _windows() if a.id == window_id), None)
    with services().factory() as session:
        allowed = agency is not None and bookings.check_feed_token(session, window_id, token)
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


# -- `python -m bot slots` ----------------------------------------------------------------


def add_slots_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="slots_action", required=True)
    add = actions.add_parser("add", help="recurring availability, e.g. 平日 10:00-16:00")
    add.add_argument("--window", required=True, help="a bookable window id (agencies.toml)")
    add.add_argument("--weekdays", default="0-4", help="0=Mon … 6=Sun: '0-4' or '1,3'")
    add.add_argument("--start", default="10:00")
    add.add_argument("--end", default="16:00")
    add.add_argument("--minutes", type=int, default=45)
    add.add_argument("--capacity", type=int, default=1)
    add.add_argument("--mode", default="来所", help="来所 / 電話 / オンライン / 訪問")
    add.add_argument("--location")
    add.add_argument("--from", dest="valid_from", type=date.fromisoformat)
    add.add_argument("--until", dest="valid_until", type=date.fromisoformat)
    add.add_argument("--days", type=int, default=HORIZON_DAYS, help="publish this far ahead")
    close = actions.add_parser("close", help="a closed day: its slots are withdrawn, "
                               "booked residents are told")
    close.add_argument("--window", required=True)
    close.add_argument("--date", required=True, type=date.fromisoformat)
    close.add_argument("--reason", default="休業日")
    show = actions.add_parser("list", help="availability and the coming slots")
    show.add_argument("--window")
    show.add_argument("--days", type=int, default=7)
    publish = actions.add_parser("publish", help="publish slots from availability")
    publish.add_argument("--days", type=int, default=HORIZON_DAYS)


def parse_weekdays(text: str) -> list[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        days.update(range(int(first), int(last or first) + 1))
    return sorted(days)


def cmd_slots(config: Config, args: argparse.Namespace) -> None:
    svc = build_services(config)
    windows = {a.id: a for a in _windows()}
    window = getattr(args, "window", None)
    if window is not None and window not in windows:
        print(f"madoguchi: {window!r} is not a bookable window; bookable: "
              f"{', '.join(windows)}", file=sys.stderr)
        raise SystemExit(2)
    try:
        for line in _SLOT_ACTIONS[args.slots_action](svc.factory, args, utcnow()):
            print(line)
    except (BookingError, ValueError) as exc:
        print(f"madoguchi: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _cli_add(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    today = now.astimezone(TOKYO).date()
    with transaction(factory) as session:
        availability = bookings.add_availability(
            session, window_id=args.window, weekdays=parse_weekdays(args.weekdays),
            start=args.start, end=args.end, slot_minutes=args.minutes, capacity=args.capacity,
            mode=args.mode, location=args.location, now=now,
            valid_from=args.valid_from or today, valid_until=args.valid_until,
        )
        created = bookings.generate_slots(session, now=now, window_id=args.window,
                                          until=today + timedelta(days=args.days))
    return [f"availability {availability.id} added to {args.window}; {created} slots published"]


def _cli_close(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    with transaction(factory) as session:
        told = close_day_and_notify(session, window_id=args.window, day=args.date,
                                    reason=args.reason, now=now)
    return [f"{args.window} closed on {args.date.isoformat()}; {told} resident(s) notified"]


def _cli_publish(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    until = now.astimezone(TOKYO).date() + timedelta(days=args.days)
    with transaction(factory) as session:
        created = bookings.generate_slots(session, now=now, until=until)
    return [f"{created} slots published up to {until.isoformat()}"]


def _cli_list(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    lines: list[str] = []
    windows = [args.window] if args.window else [a.id for a in _windows()]
    with factory() as session:
        for window_id in windows:
            lines.append(f"{window_id}:")
            for a in session.scalars(select_availability(window_id)):
                days = "".join("月火水木金土日"[d] for d in a.weekdays)
                lines.append(f"  availability {a.id}: {days} {a.start_time}-{a.end_time} "
                             f"{a.slot_minutes}min x{a.capacity} {MODES[a.mode]}")
            for c in session.scalars(select(ClosedDay).where(
                    ClosedDay.window_id == window_id,
                    ClosedDay.day >= now.astimezone(TOKYO).date())):
                lines.append(f"  closed {c.day.isoformat()} ({c.reason})")
            for day in range(args.days):
                shown = now.astimezone(TOKYO).date() + timedelta(days=day)
                for s in bookings.slots_on(session, window_id, shown):
                    at = s.starts_at.astimezone(TOKYO)
                    lines.append(f"  slot {s.id}: {at:%Y-%m-%d %H:%M} {MODES[s.mode]} "
                                 f"{s.booked}/{s.capacity} {s.status}")
    return lines


_SLOT_ACTIONS = {"add": _cli_add, "close": _cli_close, "list": _cli_list,
                 "publish": _cli_publish}


# -- the embedded demo --------------------------------------------------------------------

DEMO_AVAILABILITY = (
    # weekdays, start, end, minutes, capacity, mode
    ((0, 1, 2, 3, 4), "10:00", "16:00", 45, 2, "visit_office"),
    ((1, 3), "13:30", "15:30", 30, 1, "phone"),
)


def seed_demo_slots(factory: Any, now: datetime | None = None) -> list[str]:
    """Availability for each bookable window that has none, published three weeks ahead."""
    now = now or utcnow()
    today = now.astimezone(TOKYO).date()
    lines: list[str] = []
    with transaction(factory) as session:
        for agency in _windows():
            if session.scalar(select_availability(agency.id).limit(1)) is not None:
                continue
            for weekdays, start, end, minutes, capacity, mode in DEMO_AVAILABILITY:
                bookings.add_availability(
                    session, window_id=agency.id, weekdays=weekdays, start=start, end=end,
                    slot_minutes=minutes, capacity=capacity, mode=mode, now=now,
                    valid_from=today,
                )
            lines.append(f"demo booking availability for {agency.name}")
        created = bookings.generate_slots(session, now=now,
                                          until=today + timedelta(days=HORIZON_DAYS))
    if created:
        lines.append(f"{created} demo booking slots published for the next 3 weeks")
    return lines
