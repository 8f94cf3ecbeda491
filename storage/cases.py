"""Cases: open (or join) a resident's open case, find the one a person is handling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Case, Resident

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
OPEN_STATUSES = ("new", "claimed", "waiting")


def open_case(
    session: Session,
    resident: Resident,
    *,
    reason: str,
    priority: str,
    now: datetime,
    topics: list[str] | None = None,
    topic_evidence: dict[str, list[str]] | None = None,
    urgent_reason: str | None = None,
    about: str = "self",
    window_id: str | None = None,
) -> Case:
    """One open case per resident: a new concern joins it and may raise its priority."""
    case = current_case(session, resident)
    if case is None:
        case = Case(
            resident_id=resident.id, resident_alias=resident.alias, topics=[],
            topic_evidence={}, priority=priority, status="new", opened_reason=reason,
            about=about, consent="unknown", window_id=window_id, created_at=now,
        )
        session.add(case)
    elif PRIORITY_RANK[priority] < PRIORITY_RANK[case.priority]:
        case.priority = priority
        if priority == "urgent":
            case.opened_reason = reason
    case.topics = sorted(set(case.topics or []) | set(topics or []))
    if topic_evidence:
        merged = dict(case.topic_evidence or {})
        for topic, evidence in topic_evidence.items():
            merged[topic] = sorted(set(merged.get(topic, [])) | set(evidence))
        case.topic_evidence = merged
    if urgent_reason:
        case.urgent_reason = urgent_reason
    if about != "self":
        case.about = about
    session.flush()
    return case


def current_case(session: Session, resident: Resident) -> Case | None:
    return session.scalar(
        select(Case)
        .where(Case.resident_id == resident.id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id.desc())
        .limit(1)
    )


def handled_by_person(session: Session, resident: Resident) -> Case | None:
    """The open case a staff member has claimed: the bot steps back for it."""
    case = current_case(session, resident)
    return case if case is not None and case.status in ("claimed", "waiting") else None
