"""Hand-off plumbing: notifications to send about cases, Slack threads, login throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.models.core import BigId
from storage.types import UTCDateTime


class CaseNotification(Base):
    """A notice about a case waiting to be sent to staff (Slack), outside any resident's
    transaction: the row commits with the change that caused it, and the worker sends it,
    claimed in order per case with the same lease code as the LINE outbox."""

    __tablename__ = "case_notifications"
    __table_args__ = (
        Index("ix_case_notifications_pending", "status", "next_attempt_at"),
        # The claim looks for an earlier unfinished notice of the same case.
        Index("ix_case_notifications_case_id_status", "case_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    # new_case | renotify | escalate | overdue | update | message | erase
    kind: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column()  # for kind=message: which message to relay
    # pending → sending (leased) → sent | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlackThread(Base):
    """The Slack card posted for a case; replies in its thread go to the resident."""

    __tablename__ = "slack_threads"
    __table_args__ = (Index("ix_slack_threads_channel_ts", "channel", "ts", unique=True),)

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    # The newest resident message already copied (masked) into the thread.
    last_message_id: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlackPost(Base):
    """A message we posted about a case (the card, relayed messages, notices), so that a
    resident's deletion can delete every one of them from Slack."""

    __tablename__ = "slack_posts"
    __table_args__ = (Index("ix_slack_posts_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlackEventSeen(Base):
    """Slack retries a request it thinks failed; each event id is acted on once."""

    __tablename__ = "slack_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_key: Mapped[str] = mapped_column(String(128), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginAttempt(Base):
    """Failed staff logins per client address (hashed), for the per-IP limit."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_ip_key_created_at", "ip_key", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ip_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
