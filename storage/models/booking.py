"""Consultation booking: recurring availability, closed days, slots, bookings, calendar feeds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.models.core import BigId
from storage.types import EncryptedText, UTCDateTime

# How a consultation happens; the Japanese label is what residents and staff see.
MODES: dict[str, str] = {
    "visit_office": "来所",
    "phone": "電話",
    "online": "オンライン",
    "home_visit": "訪問",
}


class Availability(Base):
    """A recurring pattern, e.g. 平日 10:00–16:00, 45-minute slots, capacity 2."""

    __tablename__ = "booking_availabilities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    window_id: Mapped[str] = mapped_column(String(64), index=True)
    weekdays: Mapped[list] = mapped_column(JSON)  # Monday = 0
    start_time: Mapped[str] = mapped_column(String(5))  # "10:00", Asia/Tokyo wall clock
    end_time: Mapped[str] = mapped_column(String(5))
    slot_minutes: Mapped[int] = mapped_column()
    capacity: Mapped[int] = mapped_column()
    mode: Mapped[str] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    skip_holidays: Mapped[bool] = mapped_column(default=True)  # jpholiday incl. 振替休日
    skip_year_end: Mapped[bool] = mapped_column(default=True)  # 12/29–1/3
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClosedDay(Base):
    """A day a window takes no bookings (研修, 臨時休業 …), beyond holidays and 年末年始."""

    __tablename__ = "booking_closed_days"
    __table_args__ = (UniqueConstraint("window_id", "day", name="uq_booking_closed_days_day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    window_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(100), default="休業日")
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Slot(Base):
    """One bookable period of a window; `booked` only moves by conditional UPDATE."""

    __tablename__ = "booking_slots"
    __table_args__ = (
        UniqueConstraint("window_id", "starts_at", "mode", name="uq_booking_slots_start"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_booking_slots_window_starts", "window_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    window_id: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column()
    booked: Mapped[int] = mapped_column(default=0)
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | cancelled
    availability_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_availabilities.id", ondelete="SET NULL")
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(Base):
    """A resident's appointment in a slot."""

    __tablename__ = "bookings"
    __table_args__ = (
        # A resident holds a slot at most once; cancelled rows do not count.
        Index(
            "uq_bookings_slot_resident_active", "slot_id", "resident_id", unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_bookings_resident_status", "resident_id", "status"),
        Index("ix_bookings_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("booking_slots.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    resident_alias: Mapped[str] = mapped_column(String(32))
    window_id: Mapped[str] = mapped_column(String(64))
    # Copied from the slot so reminder sweeps need no join.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # booked → attended (来談) | no_show (不在); or cancelled
    status: Mapped[str] = mapped_column(String(12), default="booked")
    nickname: Mapped[str | None] = mapped_column(EncryptedText)  # how staff may address them
    callback: Mapped[str | None] = mapped_column(String(8))  # line | phone
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText)  # only when phone chosen
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    cancelled_by: Mapped[str | None] = mapped_column(String(8))  # resident | staff
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    attendance_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_day_before_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_hour_before_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moved_from_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CalendarFeed(Base):
    """The secret token of a window's iCalendar feed (kept encrypted, rotated by staff)."""

    __tablename__ = "booking_calendar_feeds"

    window_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = ["MODES", "Availability", "Booking", "CalendarFeed", "ClosedDay", "Slot"]
