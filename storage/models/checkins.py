"""見守り check-ins: a household's enrolment and one durable row per scheduled occurrence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.models.core import BigId
from storage.types import EncryptedText, UTCDateTime


class CheckinEnrolment(Base):
    """Who is watched, when, quietly when, and who is told when nobody answers."""

    __tablename__ = "checkin_enrolments"
    __table_args__ = (
        # The send sweep reads only this index: active enrolments whose next send is due.
        Index("ix_checkin_enrolments_due", "status", "next_send_at"),
        Index("ix_checkin_enrolments_resident_id", "resident_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    resident_alias: Mapped[str] = mapped_column(String(32))
    # active → paused (入院中, 旅行 …, optionally until a date) → active … → ended
    status: Mapped[str] = mapped_column(String(8), default="active")
    # Schedule, in Asia/Tokyo: "weekly" on `weekdays` (0 = Monday) or every `interval_days`
    # counted from `anchor_date`; always at `at_time` ("HH:MM").
    schedule_kind: Mapped[str] = mapped_column(String(8))
    weekdays: Mapped[list] = mapped_column(JSON, default=list)
    interval_days: Mapped[int | None] = mapped_column()
    anchor_date: Mapped[str | None] = mapped_column(String(10))  # ISO date, Tokyo
    at_time: Mapped[str] = mapped_column(String(5))
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "21:00"; may wrap midnight
    quiet_end: Mapped[str | None] = mapped_column(String(5))  # "08:00"
    # The ladder: a gentle reminder after this many minutes without an answer (0: none),
    # then an escalation case after this many more.
    remind_after_minutes: Mapped[int] = mapped_column(default=180)
    escalate_after_minutes: Mapped[int] = mapped_column(default=180)
    # A named supporter (e.g. 民生委員) for the coordinator to call; staff-only, encrypted.
    supporter_name: Mapped[str | None] = mapped_column(EncryptedText)
    supporter_role: Mapped[str | None] = mapped_column(String(32))
    supporter_phone: Mapped[str | None] = mapped_column(EncryptedText)
    # Who consented, as staff recorded it (may name a relative): encrypted.
    consent_by: Mapped[str] = mapped_column(EncryptedText)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enrolled_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    pause_reason: Mapped[str | None] = mapped_column(EncryptedText)  # 入院中 …: health
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until resumed
    end_reason: Mapped[str | None] = mapped_column(EncryptedText)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The next scheduled slot (the occurrence's key) and when it is sent (after quiet hours).
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Checkin(Base):
    """One occurrence: sent once, answered, reminded, escalated — or recorded as missed."""

    __tablename__ = "checkins"
    __table_args__ = (
        # The idempotency key: one occurrence per enrolment and slot, whatever restarts.
        UniqueConstraint("enrolment_id", "due_at", name="uq_checkins_enrolment_due"),
        # The ladder sweep reads only open occurrences whose next step is due.
        Index("ix_checkins_ladder", "status", "action_at"),
        Index("ix_checkins_resident_id_id", "resident_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("checkin_enrolments.id", ondelete="CASCADE")
    )
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the scheduled slot
    # sent → reminded → escalated; or answered | replied | missed | cancelled
    status: Mapped[str] = mapped_column(String(12))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(36))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # next ladder step
    answer: Mapped[str | None] = mapped_column(String(8))  # ok|uneasy|talk|unwell|urgent|message
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    # Why missed/cancelled (copies the pause reason, e.g. 入院中): encrypted.
    note: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
