"""Cases: a resident's situation handed to people, with notes and referrals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.models.core import BigId
from storage.types import EncryptedJSON, EncryptedText, UTCDateTime


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_priority", "status", "priority", "created_at"),
        # open_case / current_case look a resident's case up on every message.
        Index("ix_cases_resident_id_status", "resident_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )
    resident_alias: Mapped[str] = mapped_column(String(32))
    topics: Mapped[list] = mapped_column(JSON, default=list)
    # The resident's own words that named each topic (死にたい, 借金 …): encrypted.
    topic_evidence: Mapped[dict] = mapped_column(EncryptedJSON, default=dict)
    priority: Mapped[str] = mapped_column(String(8))  # urgent | high | normal
    # new → claimed → waiting (for resident) → closed
    status: Mapped[str] = mapped_column(String(16), default="new")
    # urgent | compound | human | not_understood | checkin
    opened_reason: Mapped[str] = mapped_column(String(24))
    urgent_reason: Mapped[str | None] = mapped_column(EncryptedText)  # quotes the resident
    # The highest risk band nlu (or the resident's answer) gave for this case, its score
    # and, for staff, why (may quote the resident): urgent | check | none.
    risk: Mapped[str | None] = mapped_column(String(8))
    risk_score: Mapped[float | None] = mapped_column(Float)
    risk_reason: Mapped[str | None] = mapped_column(EncryptedText)
    about: Mapped[str] = mapped_column(String(8), default="self")
    # unknown → asked → granted | declined (declined: only the confidential 支援会議 path)
    consent: Mapped[str] = mapped_column(String(12), default="unknown")
    window_id: Mapped[str | None] = mapped_column(String(64))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    booking_id: Mapped[int | None] = mapped_column()
    outcome: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Closure asked for 見守り (check-ins) for the household; enrolled_at once it is set up.
    watch_requested: Mapped[bool] = mapped_column(default=False)
    watch_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Referral(Base):
    """A hand-off to another window, tracked until that window confirms it took the case."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    window_id: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="sent")  # sent | confirmed | declined
    note: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
