"""The "check" question: asked when nlu is unsure whether someone is in danger now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow
from storage.models.core import BigId
from storage.types import EncryptedJSON, EncryptedText, UTCDateTime


class SafetyCheck(Base):
    """One 「今、危ないですか？」 question and how it was answered (the city counts these to
    tune the band). The message it was about is kept, encrypted, only until the resident
    answers, so that 「そうではない」 can carry on with it."""

    __tablename__ = "safety_checks"
    __table_args__ = (Index("ix_safety_checks_answer_due_at", "answer", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE")
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # no answer by then: a case
    # None while waiting; danger | fine | person | no_answer
    answer: Mapped[str | None] = mapped_column(String(12))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    # labels and evidence words for staff (may quote the resident)
    evidence: Mapped[str | None] = mapped_column(EncryptedText)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    # nlu's full reading of the message (with its text), until it has been carried on.
    analysis: Mapped[Any | None] = mapped_column(EncryptedJSON)
