"""Bookings: availability → slots, booking without over-capacity, cancel, attendance, reminders.

Capacity is enforced by the database, not by reading and then writing: a booking is
one conditional ``UPDATE booking_slots SET booked = booked + 1 WHERE id = ? AND
booked < capacity`` whose row count says whether the seat was won, plus a unique index
so one resident cannot hold the same slot twice. Both run in a savepoint, so a lost
race leaves nothing behind. Times are stored in UTC and reasoned about in Asia/Tokyo.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from hmac import compare_digest

import jpholiday
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.clock import TOKYO
from storage.cases import current_case
from storage.models import Resident
from storage.models.booking import MODES, Availability, Booking, CalendarFeed, ClosedDay, Slot

MAX_FUTURE_BOOKINGS = 2  # per resident, so a few people cannot hold every seat
YEAR_END = {"12-29", "12-30", "12-31", "01-01", "01-02", "01-03"}  # 年末年始
ACTIVE = ("booked", "attended", "no_show")  # statuses that hold a seat
ATTENDANCE_EARLIEST = timedelta(hours=1)  # staff may mark 来談 from an hour before

log = logging.getLogger(__name__)


class BookingError(Exception):
    """Why a booking action was refused; ``code`` is stable, for handlers to word."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


# -- availability and slots ---------------------------------------------------------------


def parse_hhmm(value: str) -> time:
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def mode_key(value: str) -> str:
    """Accept a mode key (visit_office) or its label (来所)."""
    if value in MODES:
        return value
    for key, label in MODES.items():
        if value == label:
            return key
    raise BookingError("bad_mode", f"mode must be one of {', '.join([*MODES, *MODES.values()])}")


def add_availability(
    session: Session, *, window_id: str, weekdays: Sequence[int], start: str, end: str,
    slot_minutes: int, capacity: int, mode: str, now: datetime, valid_from: date,
    valid_until: date | None = None, location: str | None = None, skip_holidays: bool = True,
    skip_year_end: bool = True, staff_id: int | None = None,
) -> Availability:
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if not weekdays or any(d not in range(7) for d in weekdays):
        raise BookingError("bad_weekdays", "weekdays are 0 (Monday) … 6 (Sunday)")
    if begin >= finish:
        raise BookingError("bad_hours", "start must be before end")
    if slot_minutes < 5 or capacity < 1:
        raise BookingError("bad_size", "slots need at least 5 minutes and capacity 1")
    if valid_until is not None and valid_until < valid_from:
        raise BookingError("bad_dates", "valid_until is before valid_from")
    availability = Availability(
        window_id=window_id, weekdays=sorted(set(weekdays)), start_time=begin.strftime("%H:%M"),
        end_time=finish.strftime("%H:%M"), slot_minutes=slot_minutes, capacity=capacity,
        mode=mode_key(mode), location=location, valid_from=valid_from, valid_until=valid_until,
        skip_holidays=skip_holidays, skip_year_end=skip_year_end, active=True,
        created_by=staff_id, created_at=now,
    )
    session.add(availability)
    session.flush()
    return availability


def closure_reason(
    day: date, availability: Availability, closed: dict[tuple[str, date], str]
) -> str | None:
    """Why no slots are published on ``day`` for this availability, or None."""
    if (availability.window_id, day) in closed:
        return closed[(availability.window_id, day)]
    if availability.skip_year_end and day.strftime("%m-%d") in YEAR_END:
        return "年末年始"
    if availability.skip_holidays and jpholiday.is_holiday(day):
        return jpholiday.is_holiday_name(day) or "祝日"
    return None


def slot_times(day: date, availability: Availability) -> list[tuple[datetime, datetime]]:
    """The (start, end) of each whole slot that fits the day's hours, aware in Tokyo."""
    step = timedelta(minutes=availability.slot_minutes)
    start = datetime.combine(day, parse_hhmm(availability.start_time), TOKYO)
    close = datetime.combine(day, parse_hhmm(availability.end_time), TOKYO)
    times = []
    while start + step <= close:
        times.append((start, start + step))
        start += step
    return times


def generate_slots(
    session: Session, *, now: datetime, until: date, window_id: str | None = None,
    from_day: date | None = None,
) -> int:
    """Publish slots from active availability up to ``until`` (inclusive). Idempotent."""
    query = select(Availability).where(Availability.active.is_(True))
    if window_id is not None:
        query = query.where(Availability.window_id == window_id)
    closed = {(c.window_id, c.day): c.reason for c in session.scalars(select(ClosedDay))}
    today = now.astimezone(TOKYO).date()
    created = 0
    for availability in session.scalars(query).all():
        first = max(availability.valid_from, from_day or today, today)
        last = min(availability.valid_until or until, until)
        created += _publish(session, availability, first, last, closed, now)
    session.flush()
    return created


def _publish(
    session: Session, availability: Availability, first: date, last: date,
    closed: dict[tuple[str, date], str], now: datetime,
) -> int:
    if first > last:
        return 0
    existing = set(session.scalars(
        select(Slot.starts_at).where(
            Slot.window_id == availability.window_id, Slot.mode == availability.mode,
            Slot.starts_at >= datetime.combine(first, time(0), TOKYO),
            Slot.starts_at < datetime.combine(last + timedelta(days=1), time(0), TOKYO),
        )
    ))
    created = 0
    day = first
    while day <= last:  # day by day: calendar arithmetic, so 2/29 is just another day
        if day.weekday() in availability.weekdays and not closure_reason(day, availability, closed):
            for start, end in slot_times(day, availability):
                if start <= now or start in existing:
                    continue
                session.add(Slot(
                    window_id=availability.window_id, starts_at=start, ends_at=end,
                    mode=availability.mode, capacity=availability.capacity, booked=0,
                    location=availability.location, status="open",
                    availability_id=availability.id, created_at=now,
                ))
                created += 1
        day += timedelta(days=1)
    return created


def add_closed_day(
    session: Session, *, window_id: str, day: date, reason: str, now: datetime,
    staff_id: int | None = None,
) -> tuple[ClosedDay, list[Slot]]:
    """Close a day; returns the open slots on it, which the caller cancels (and notifies)."""
    closed = session.scalar(
        select(ClosedDay).where(ClosedDay.window_id == window_id, ClosedDay.day == day)
    )
    if closed is None:
        closed = ClosedDay(window_id=window_id, day=day, reason=reason, created_by=staff_id,
                           created_at=now)
        session.add(closed)
        session.flush()
    return closed, slots_on(session, window_id, day, include_cancelled=False)


def active_availability(session: Session, window_id: str) -> list[Availability]:
    """A window's recurring availability that is still in force."""
    return list(session.scalars(
        select(Availability)
        .where(Availability.window_id == window_id, Availability.active.is_(True))
        .order_by(Availability.id)))


def closed_days_from(session: Session, window_id: str, first: date) -> list[ClosedDay]:
    return list(session.scalars(
        select(ClosedDay).where(ClosedDay.window_id == window_id, ClosedDay.day >= first)
        .order_by(ClosedDay.day)))


def slots_on(
    session: Session, window_id: str, day: date, *, include_cancelled: bool = True
) -> list[Slot]:
    start = datetime.combine(day, time(0), TOKYO)
    query = select(Slot).where(
        Slot.window_id == window_id, Slot.starts_at >= start,
        Slot.starts_at < start + timedelta(days=1),
    )
    if not include_cancelled:
        query = query.where(Slot.status == "open")
    return list(session.scalars(query.order_by(Slot.starts_at, Slot.mode)))


def open_slots(
    session: Session, window_id: str, *, after: datetime, before: datetime | None = None,
    limit: int = 8,
) -> list[Slot]:
    """Slots with a free seat starting after ``after``, earliest first."""
    query = select(Slot).where(
        Slot.window_id == window_id, Slot.status == "open", Slot.booked < Slot.capacity,
        Slot.starts_at > after,
    )
    if before is not None:
        query = query.where(Slot.starts_at < before)
    return list(session.scalars(query.order_by(Slot.starts_at, Slot.id).limit(limit)))


def nearest_slots(
    session: Session, window_id: str, ranges: Iterable[tuple[datetime, datetime]], *,
    after: datetime, limit: int = 5, search: timedelta = timedelta(days=14),
) -> tuple[list[Slot], bool]:
    """Free slots inside the wished ranges; if none, the nearest around them.

    Returns (slots, exact): exact is True when the slots lie inside a wished range.
    """
    ranges = [(max(s, after), e) for s, e in ranges if e > after]
    inside: list[Slot] = []
    for start, end in ranges:
        inside += open_slots(session, window_id, after=start - timedelta(seconds=1),
                             before=end, limit=limit)
    if inside:
        unique = {s.id: s for s in inside}
        return sorted(unique.values(), key=lambda s: (s.starts_at, s.id))[:limit], True
    if not ranges:
        return [], False
    target = ranges[0][0]
    pool = open_slots(session, window_id, after=max(after, target - search),
                      before=target + search, limit=200)
    pool.sort(key=lambda s: (abs((s.starts_at - target).total_seconds()), s.starts_at))
    return sorted(pool[:limit], key=lambda s: s.starts_at), False


# -- booking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingDetails:
    """What a resident may add; all optional."""

    nickname: str | None = None
    callback: str | None = None  # line | phone
    contact_phone: str | None = None


def book(
    session: Session, *, slot_id: int, resident: Resident, now: datetime,
    details: BookingDetails | None = None, moving: Booking | None = None,
    lead: timedelta = timedelta(0), max_future: int = MAX_FUTURE_BOOKINGS,
) -> Booking:
    """Take a seat in a slot, atomically; ``moving`` is an existing booking to give up."""
    details = details or BookingDetails()
    slot = session.get(Slot, slot_id)
    if slot is None or slot.status != "open":
        raise BookingError("closed")
    if slot.starts_at <= now + lead:
        raise BookingError("past")
    if moving is not None and (moving.resident_id != resident.id or moving.status != "booked"):
        raise BookingError("not_found", "the booking to move is not this resident's")
    held = [b for b in future_bookings(session, resident, now)
            if moving is None or b.id != moving.id]
    if any(b.slot_id == slot_id for b in held):
        raise BookingError("duplicate")
    if len(held) >= max_future:
        raise BookingError("limit")
    booking = _take_seat(session, slot, resident, now, details)
    if moving is not None:
        cancel_booking(session, moving, now=now, by="resident", reason="moved")
        booking.moved_from_id = moving.id
    case = current_case(session, resident)
    if case is not None:
        case.booking_id = booking.id
        booking.case_id = case.id
    session.flush()
    return booking


def _take_seat(
    session: Session, slot: Slot, resident: Resident, now: datetime, details: BookingDetails
) -> Booking:
    try:
        with session.begin_nested():
            won = session.execute(
                update(Slot)
                .where(Slot.id == slot.id, Slot.status == "open", Slot.booked < Slot.capacity,
                       Slot.starts_at > now)
                .values(booked=Slot.booked + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won != 1:
                raise BookingError("full")
            booking = Booking(
                slot_id=slot.id, resident_id=resident.id, resident_alias=resident.alias,
                window_id=slot.window_id, starts_at=slot.starts_at, status="booked",
                nickname=details.nickname, callback=details.callback,
                contact_phone=details.contact_phone if details.callback == "phone" else None,
                created_at=now,
            )
            session.add(booking)
            session.flush()
    except IntegrityError:
        raise BookingError("duplicate") from None
    finally:
        session.expire(slot, ["booked"])
    return booking


def cancel_booking(
    session: Session, booking: Booking, *, now: datetime, by: str, reason: str | None = None
) -> bool:
    """Give the seat back. False when it was not active (already cancelled, or attended)."""
    changed = session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == "booked")
        .values(status="cancelled", cancelled_by=by, cancel_reason=reason, cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return False
    session.execute(
        update(Slot).where(Slot.id == booking.slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1).execution_options(synchronize_session=False)
    )
    session.expire(booking)
    slot = session.get(Slot, booking.slot_id)
    if slot is not None:
        session.expire(slot, ["booked"])
    return True


def cancel_slot(
    session: Session, slot_id: int, *, now: datetime, reason: str
) -> list[Booking]:
    """Withdraw a slot; returns the bookings it cancelled, so the caller can tell residents."""
    slot = session.get(Slot, slot_id, with_for_update=True)
    if slot is None or slot.status != "open":
        return []
    slot.status, slot.cancel_reason, slot.cancelled_at = "cancelled", reason, now
    affected = list(session.scalars(
        select(Booking).where(Booking.slot_id == slot_id, Booking.status == "booked")
    ))
    for booking in affected:
        booking.status, booking.cancelled_by = "cancelled", "staff"
        booking.cancel_reason, booking.cancelled_at = reason, now
    slot.booked = 0
    session.flush()
    return affected


def record_attendance(
    session: Session, booking_id: int, *, attended: bool, staff_id: int | None, now: datetime
) -> Booking:
    """来談 or 不在; may be corrected later, but not for a cancelled booking."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise BookingError("not_found")
    if booking.status == "cancelled":
        raise BookingError("cancelled")
    if now < booking.starts_at - ATTENDANCE_EARLIEST:
        raise BookingError("too_early")
    booking.status = "attended" if attended else "no_show"
    booking.attendance_by, booking.attendance_at = staff_id, now
    session.flush()
    return booking


def future_bookings(session: Session, resident: Resident, now: datetime) -> list[Booking]:
    return list(session.scalars(
        select(Booking)
        .where(Booking.resident_id == resident.id, Booking.status == "booked",
               Booking.starts_at > now)
        .order_by(Booking.starts_at, Booking.id)
    ))


def owned_booking(session: Session, resident: Resident, booking_id: int) -> Booking | None:
    """The booking if it is this resident's (postback data comes from the client)."""
    booking = session.get(Booking, booking_id)
    return booking if booking is not None and booking.resident_id == resident.id else None


def release_resident(session: Session, resident: Resident, now: datetime) -> int:
    """Cancel a resident's future bookings (before their data is deleted)."""
    return sum(
        cancel_booking(session, b, now=now, by="resident", reason="data_deleted")
        for b in future_bookings(session, resident, now)
    )


def bookings_in(session: Session, slot_ids: Sequence[int]) -> dict[int, list[Booking]]:
    """Bookings (any status) of the given slots, by slot id, for the staff day view."""
    by_slot: dict[int, list[Booking]] = {sid: [] for sid in slot_ids}
    if not slot_ids:
        return by_slot
    for booking in session.scalars(
        select(Booking).where(Booking.slot_id.in_(slot_ids)).order_by(Booking.id)
    ):
        by_slot[booking.slot_id].append(booking)
    return by_slot


def window_bookings(
    session: Session, window_id: str, *, start: datetime, end: datetime
) -> list[tuple[Booking, Slot]]:
    """Seat-holding bookings of a window in [start, end), for calendars."""
    rows = session.execute(
        select(Booking, Slot).join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.window_id == window_id, Booking.status.in_(ACTIVE),
               Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at, Booking.id)
    )
    return [(booking, slot) for booking, slot in rows]


# -- reminders ----------------------------------------------------------------------------

DAY_BEFORE, HOUR_BEFORE = "day_before", "hour_before"
_SENT_COLUMN = {
    DAY_BEFORE: Booking.reminder_day_before_sent_at,
    HOUR_BEFORE: Booking.reminder_hour_before_sent_at,
}


@dataclass(frozen=True)
class ReminderTimes:
    day_before_at: time = time(18, 0)  # Tokyo wall clock, the day before
    before: timedelta = timedelta(hours=1)


def reminder_due_at(booking: Booking, kind: str, times: ReminderTimes) -> datetime:
    if kind == HOUR_BEFORE:
        return booking.starts_at - times.before
    local_day = booking.starts_at.astimezone(TOKYO).date() - timedelta(days=1)
    return datetime.combine(local_day, times.day_before_at, TOKYO)


def reminder_kind_due(booking: Booking, now: datetime, times: ReminderTimes) -> str | None:
    """The one reminder to send now, if any.

    A reminder whose time passed before the booking was made is not needed (the
    confirmation said it all). When both are due (the scheduler was down), only the
    nearer one is sent.
    """
    if booking.status != "booked" or booking.starts_at <= now:
        return None
    hour_due = reminder_due_at(booking, HOUR_BEFORE, times)
    if hour_due <= now:
        wanted = booking.reminder_hour_before_sent_at is None and hour_due > booking.created_at
        return HOUR_BEFORE if wanted else None
    day_due = reminder_due_at(booking, DAY_BEFORE, times)
    if day_due <= now and day_due > booking.created_at:
        return DAY_BEFORE if booking.reminder_day_before_sent_at is None else None
    return None


def due_reminders(
    session: Session, now: datetime, times: ReminderTimes, horizon: timedelta = timedelta(days=3)
) -> list[tuple[int, str]]:
    """(booking id, kind) of every reminder due at ``now``; reads only durable rows."""
    horizon = max(horizon, times.before + timedelta(days=2))
    candidates = session.scalars(
        select(Booking).where(
            Booking.status == "booked", Booking.starts_at > now,
            Booking.starts_at <= now + horizon,
            or_(Booking.reminder_day_before_sent_at.is_(None),
                Booking.reminder_hour_before_sent_at.is_(None)),
        ).order_by(Booking.starts_at, Booking.id)
    )
    due = []
    for booking in candidates:
        kind = reminder_kind_due(booking, now, times)
        if kind is not None:
            due.append((booking.id, kind))
    return due


def claim_reminder(session: Session, booking_id: int, kind: str, now: datetime) -> bool:
    """Mark a reminder sent; True for exactly one caller, and only while still booked.

    The caller enqueues the message in the same transaction, so mark and message
    commit together: once, even with two sweeps or a restart in between.
    """
    column = _SENT_COLUMN[kind]
    values = {column.key: now}
    if kind == HOUR_BEFORE:  # the day-before one is moot once this goes out
        values[Booking.reminder_day_before_sent_at.key] = func.coalesce(
            Booking.reminder_day_before_sent_at, now
        )
    return session.execute(
        update(Booking)
        .where(and_(Booking.id == booking_id, Booking.status == "booked",
                    Booking.starts_at > now, column.is_(None)))
        .values(values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


# -- calendar feeds -----------------------------------------------------------------------


def feed_token(session: Session, window_id: str, now: datetime, *, rotate: bool = False) -> str:
    """The secret of a window's calendar URL, created on first use; rotate to revoke."""
    feed = session.get(CalendarFeed, window_id)
    if feed is None:
        feed = CalendarFeed(window_id=window_id, token=secrets.token_urlsafe(24), created_at=now)
        session.add(feed)
    elif rotate:
        feed.token, feed.created_at = secrets.token_urlsafe(24), now
    session.flush()
    return feed.token


def check_feed_token(session: Session, window_id: str, token: str) -> bool:
    feed = session.get(CalendarFeed, window_id)
    return feed is not None and bool(token) and compare_digest(feed.token, token)


# -- settings (parsed by bot.config, the one reader of the environment) ----------


def reminder_times(env: Mapping[str, str]) -> ReminderTimes:
    """The reminder settings from Config's environment (invalid values: the defaults)."""
    default = ReminderTimes()
    try:
        at = parse_hhmm(env.get("BOOKING_REMINDER_DAY_BEFORE", "18:00"))
        minutes = float(env.get("BOOKING_REMINDER_BEFORE_MINUTES", "60"))
    except ValueError:
        log.warning("booking reminder settings are invalid; using 18:00 and 60 minutes")
        return default
    return ReminderTimes(day_before_at=at, before=timedelta(minutes=max(minutes, 1)))


def horizon_days(env: Mapping[str, str]) -> int:
    try:
        return max(int(env.get("BOOKING_HORIZON_DAYS", "21")), 1)
    except ValueError:
        return 21
