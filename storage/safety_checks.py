"""The "check" questions: ask, record the answer once, find the unanswered ones."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Resident, SafetyCheck
from storage.privacy import before_delete

ANSWERS = ("danger", "fine", "person", "no_answer")
ANSWER_LABELS = {"danger": "今、危ない", "fine": "そうではない", "person": "人と話したい",
                 "no_answer": "応答なし", "waiting": "回答待ち"}
KEEP_UNANSWERED_TEXT = timedelta(days=1)  # then the message and evidence words are dropped


def ask(session: Session, resident: Resident, *, now: datetime, wait: timedelta,
        message_id: int | None, risk_score: float, topics: list[str], evidence: str | None,
        analysis: dict[str, Any]) -> SafetyCheck:
    check = SafetyCheck(
        resident_id=resident.id, message_id=message_id, asked_at=now, due_at=now + wait,
        risk_score=risk_score, topics=topics, evidence=evidence, analysis=analysis,
    )
    session.add(check)
    session.flush()
    return check


def waiting(session: Session, resident: Resident) -> SafetyCheck | None:
    """The resident's question still waiting for an answer, if any."""
    return session.scalar(
        select(SafetyCheck)
        .where(SafetyCheck.resident_id == resident.id, SafetyCheck.answer.is_(None))
        .order_by(SafetyCheck.id.desc()).limit(1)
    )


def record(session: Session, check_id: int, answer: str, now: datetime) -> bool:
    """Record the first answer. Atomic, so the sweep's "no answer" and a tap at the same
    moment cannot both win; False when the question was already answered."""
    if answer not in ANSWERS:
        raise ValueError(f"unknown answer {answer!r}")
    result = session.execute(
        update(SafetyCheck)
        .where(SafetyCheck.id == check_id, SafetyCheck.answer.is_(None))
        .values(answer=answer, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    check = session.get(SafetyCheck, check_id)
    if check is not None:
        session.refresh(check)
    return result.rowcount == 1


def due(session: Session, now: datetime) -> list[int]:
    """Questions nobody answered in time, oldest first."""
    return list(session.scalars(
        select(SafetyCheck.id)
        .where(SafetyCheck.answer.is_(None), SafetyCheck.due_at <= now)
        .order_by(SafetyCheck.due_at)
    ))


def forget_old_texts(session: Session, now: datetime) -> int:
    """A day after the question, only the labels stay: the message (kept so a late
    「そうではない」 can still carry on with it) and the evidence words (which may quote the
    resident; the case keeps its own copy, anonymised with it) are dropped."""
    result = session.execute(
        update(SafetyCheck)
        .where(SafetyCheck.asked_at <= now - KEEP_UNANSWERED_TEXT,
               (SafetyCheck.analysis.is_not(None)) | (SafetyCheck.evidence.is_not(None)))
        .values(analysis=None, evidence=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def answer_counts(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Questions asked in [start, end) by answer, for the dashboard."""
    rows = session.scalars(
        select(SafetyCheck.answer).where(SafetyCheck.asked_at >= start,
                                         SafetyCheck.asked_at < end)
    )
    counts = Counter(answer or "waiting" for answer in rows)
    return {key: counts.get(key, 0) for key in (*ANSWERS, "waiting")}


@before_delete
def _keep_only_the_count(session: Session, resident: Resident, now: datetime) -> None:
    """On a resident's request to delete: their questions stay only as a count (answer and
    dates) for the dashboard — no link to them, no text, no evidence words."""
    session.execute(
        update(SafetyCheck).where(SafetyCheck.resident_id == resident.id)
        .values(resident_id=None, message_id=None, case_id=None, analysis=None,
                evidence=None, topics=[])
        .execution_options(synchronize_session=False)
    )
