"""Residents, the inbound event log, the conversation history and the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.types import EncryptedJSON, EncryptedText, UTCDateTime

# BIGINT on PostgreSQL, INTEGER (rowid alias, autoincrement) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Resident(Base):
    """A person writing in, known to staff only by a pseudonymous alias."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_key: Mapped[str] = mapped_column(String(64), unique=True)
    alias: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    # Needed only to push; encrypted, never logged.
    channel_user_id: Mapped[str | None] = mapped_column(EncryptedText)
    active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(8), default="ja")
    district: Mapped[str | None] = mapped_column(EncryptedText)  # where they live: personal
    welcomed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundEvent(Base):
    """One webhook event, stored exactly once before anything acts on it."""

    __tablename__ = "inbound_events"
    __table_args__ = (
        UniqueConstraint("channel", "event_id", name="uq_inbound_events_channel_event"),
        Index("ix_inbound_events_pending", "status", "resident_key", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(32))
    resident_key: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(EncryptedJSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # pending → processing (leased) → done | ignored | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Message(Base):
    """Conversation history: every inbound and outbound message."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_resident_id_id", "resident_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    sender: Mapped[str] = mapped_column(String(16))  # resident | bot | staff | system
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str | None] = mapped_column(EncryptedText)
    masked_text: Mapped[str | None] = mapped_column(EncryptedText)
    # Labels (topics, urgency, intent…), but topic evidence and the urgent reason quote
    # the resident's words, so encrypted like the text.
    analysis: Mapped[dict | None] = mapped_column(EncryptedJSON)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    inbound_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_events.id", ondelete="SET NULL")
    )
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Outbox(Base):
    """One send to a channel (up to five messages), delivered after its transaction commits."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "resident_key", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    resident_key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    # Sent as X-Line-Retry-Key on push, so a resend after a crash is not delivered twice.
    idempotency_key: Mapped[str] = mapped_column(String(36), unique=True)
    messages: Mapped[Any] = mapped_column(EncryptedJSON)  # list of Reply.to_dict()
    # The event this answers (None for staff replies, check-ins, reminders).
    inbound_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_events.id", ondelete="SET NULL")
    )
    reply_token: Mapped[str | None] = mapped_column(EncryptedText)
    reply_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set before the reply call: if we crash mid-call, a retry knows the token may be spent.
    reply_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # pending → sending (leased) → sent | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # "high" (staff replies, answers to urgent messages) may use the last of LINE's
    # monthly push quota; "normal" pushes stop when only that reserve is left.
    priority: Mapped[str] = mapped_column(String(8), default="normal",
                                          server_default="normal")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_via: Mapped[str | None] = mapped_column(String(16))  # reply | push | simulator
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationState(Base):
    """Which flow a resident is in and what the bot is waiting for; survives restarts."""

    __tablename__ = "conversation_states"

    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(32))
    # A booking in progress holds a nickname and a phone number: encrypted.
    data: Mapped[dict] = mapped_column(EncryptedJSON, default=dict)
    not_understood: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the bot last told a resident, out of hours, that the person holding their case
    # will read it later: once per closed period, not on every message.
    claimed_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
