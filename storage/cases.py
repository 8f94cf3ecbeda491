"""Cases as stored: open (or join) a resident's open case, find the one a person is handling;
claim, reply bookkeeping, notes, referrals, closure, the queue and the review figures.

Callers change cases through the case service (handlers/casework.py), which adds the audit
trail and the staff notices; these functions only keep the rows consistent."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from common.vocabulary import RISK_LEVELS
from storage.models import Case, CaseNote, Message, Referral, Resident

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
RISK_RANK = {level: rank for rank, level in enumerate(RISK_LEVELS)}  # urgent first
OPEN_STATUSES = ("new", "claimed", "waiting")


def open_case(session: Session, resident: Resident, **concern: Any) -> Case:
    """open_or_join() for callers that need not know whether the case is new."""
    return open_or_join(session, resident, **concern)[0]


def open_or_join(
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
    risk: str | None = None,
    risk_score: float | None = None,
    risk_reason: str | None = None,
) -> tuple[Case, bool]:
    """One open case per resident: a new concern joins it and may raise its priority (and
    its risk band, which keeps the highest reading and why).

    Returns the case and whether it was opened just now (False: an open one was joined)."""
    case = current_case(session, resident)
    opened = case is None
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
    _raise_risk(case, risk, risk_score, risk_reason)
    session.flush()
    return case, opened


def _raise_risk(case: Case, risk: str | None, score: float | None, reason: str | None) -> None:
    if risk is None:
        return
    current = RISK_RANK.get(case.risk or "none", 2)
    if RISK_RANK[risk] < current or case.risk is None:
        case.risk, case.risk_reason = risk, reason or case.risk_reason
    elif RISK_RANK[risk] == current and reason and not case.risk_reason:
        case.risk_reason = reason
    if score is not None:
        case.risk_score = max(score, case.risk_score or 0.0)


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


# -- outcomes and labels (the city's annual review counts these codes) ---------

OUTCOMES: dict[str, str] = {
    "resolved": "解決",
    "referred": "他機関へつないだ",
    "watching": "見守り継続",
    "lost_contact": "連絡途絶",
    "declined": "本人辞退",
}
STATUS_LABELS = {"new": "未対応", "claimed": "対応中", "waiting": "返信待ち", "closed": "終了"}
PRIORITY_LABELS = {"urgent": "緊急", "high": "高", "normal": "通常"}
REFERRAL_STATUSES = ("sent", "confirmed", "declined")


class CaseError(ValueError):
    """A case action that does not fit the case's state; the message is for staff."""


# -- claiming ------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimResult:
    won: bool  # this staff member now owns the case (or already did)
    case: Case | None
    owner_id: int | None  # who owns it after the attempt
    changed: bool = False  # this attempt took it (not: already owned by this person)


def claim(session: Session, case_id: int, staff_id: int, now: datetime) -> ClaimResult:
    """Take a new case. Atomic: of two people claiming at once exactly one wins.

    A conditional UPDATE ... WHERE status = 'new' is decided by the database (row lock on
    PostgreSQL, the write lock on SQLite), so no read-then-write race is possible.
    """
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == "new")
        .values(status="claimed", assignee_id=staff_id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    case = session.get(Case, case_id)
    if case is None:
        return ClaimResult(False, None, None)
    session.refresh(case)
    won = result.rowcount == 1 or (case.status != "closed" and case.assignee_id == staff_id)
    return ClaimResult(won, case, case.assignee_id, changed=result.rowcount == 1)


def release(case: Case, staff_id: int) -> None:
    """Give a claimed case back to the queue (the bot stays muted only while claimed)."""
    if case.status not in ("claimed", "waiting") or case.assignee_id != staff_id:
        raise CaseError("担当しているケースだけを戻せます。")
    case.status, case.assignee_id, case.claimed_at = "new", None, None


def record_staff_reply(case: Case, now: datetime) -> None:
    """Bookkeeping after a staff message went into the outbox for this case."""
    if case.status == "closed":
        raise CaseError("終了したケースには返信できません。")
    if case.first_response_at is None:
        case.first_response_at = now
    case.status = "waiting"


def resident_wrote(case: Case) -> None:
    """The resident answered: the case is back with its owner (for the conversation)."""
    if case.status == "waiting":
        case.status = "claimed"


# -- notes, referrals, closure --------------------------------------------------


def add_note(session: Session, case: Case, staff_id: int | None, text: str,
             now: datetime) -> CaseNote:
    text = text.strip()
    if not text:
        raise CaseError("メモが空です。")
    note = CaseNote(case_id=case.id, staff_id=staff_id, text=text, created_at=now)
    session.add(note)
    session.flush()
    return note


def notes(session: Session, case_id: int) -> list[CaseNote]:
    return list(session.scalars(
        select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)
    ))


def refer(session: Session, case: Case, window_id: str, staff_id: int | None,
          now: datetime, note: str | None = None) -> Referral:
    """Hand the case to another window; it stays 'sent' until that window confirms."""
    if case.status == "closed":
        raise CaseError("終了したケースは紹介できません。")
    referral = Referral(case_id=case.id, window_id=window_id, staff_id=staff_id,
                        status="sent", note=(note or "").strip() or None, created_at=now)
    session.add(referral)
    session.flush()
    return referral


def set_referral_status(session: Session, referral_id: int, status: str,
                        now: datetime) -> Referral:
    """The receiving window confirmed it took the case (or declined it)."""
    if status not in ("confirmed", "declined"):
        raise CaseError(f"unknown referral status {status!r}")
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise CaseError("紹介が見つかりません。")
    if referral.status != "sent":
        raise CaseError("この紹介はすでに記録済みです。")
    referral.status, referral.confirmed_at = status, now
    return referral


def referrals(session: Session, case_id: int) -> list[Referral]:
    return list(session.scalars(
        select(Referral).where(Referral.case_id == case_id).order_by(Referral.id)
    ))


def unconfirmed_referrals(session: Session) -> list[Referral]:
    """Referrals no window has confirmed yet, oldest first (they must not be forgotten)."""
    return list(session.scalars(
        select(Referral).where(Referral.status == "sent").order_by(Referral.created_at)
    ))


def close(case: Case, outcome: str, now: datetime, watch: bool = False) -> None:
    """Close with an outcome code; the bot answers the resident again from now on."""
    if outcome not in OUTCOMES:
        raise CaseError("終了理由を選んでください。")
    if case.status == "closed":
        raise CaseError("このケースはすでに終了しています。")
    case.status, case.outcome, case.closed_at = "closed", outcome, now
    case.watch_requested = bool(watch)


# -- the queue -------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    case: Case
    waiting_since: datetime  # since when someone has been waiting for a person
    awaiting_staff: bool  # the resident wrote last (or nobody answered yet)
    open_referrals: int


def queue(
    session: Session,
    *,
    statuses: tuple[str, ...] = OPEN_STATUSES,
    topic: str | None = None,
    window_id: str | None = None,
    assignee_id: int | None = None,
) -> list[QueueItem]:
    """Open cases by priority, then by how long the resident has been waiting."""
    query = select(Case).where(Case.status.in_(statuses))
    if window_id:
        referred = select(Referral.case_id).where(Referral.window_id == window_id)
        query = query.where(or_(Case.window_id == window_id, Case.id.in_(referred)))
    if assignee_id is not None:
        query = query.where(Case.assignee_id == assignee_id)
    cases = [c for c in session.scalars(query) if not topic or topic in (c.topics or [])]
    last_in, last_staff = _last_messages(session, [c.resident_id for c in cases if c.resident_id])
    open_refs = _open_referral_counts(session, [c.id for c in cases])
    items = []
    for case in cases:
        resident_at = last_in.get(case.resident_id)
        staff_at = last_staff.get(case.resident_id)
        answered = case.first_response_at is not None and staff_at is not None and (
            resident_at is None or staff_at >= resident_at)
        since = case.created_at
        if case.first_response_at is not None and not answered and resident_at is not None:
            since = max(resident_at, case.created_at)
        elif answered and staff_at is not None:
            since = staff_at
        items.append(QueueItem(case, since, not answered and case.status != "closed",
                               open_refs.get(case.id, 0)))
    items.sort(key=lambda i: (i.case.status == "closed",
                              PRIORITY_RANK.get(i.case.priority, 9), i.waiting_since))
    return items


def _last_messages(session: Session, resident_ids: list[int]
                   ) -> tuple[dict[int, datetime], dict[int, datetime]]:
    if not resident_ids:
        return {}, {}
    rows = session.execute(
        select(Message.resident_id, Message.direction, Message.sender,
               func.max(Message.created_at))
        .where(Message.resident_id.in_(resident_ids),
               or_(and_(Message.direction == "in", Message.sender == "resident"),
                   Message.sender == "staff"))
        .group_by(Message.resident_id, Message.direction, Message.sender)
    ).all()
    last_in: dict[int, datetime] = {}
    last_staff: dict[int, datetime] = {}
    for resident_id, direction, _sender, at in rows:
        target = last_in if direction == "in" else last_staff
        target[resident_id] = _aware(at)
    return last_in, last_staff


def _aware(value: datetime) -> datetime:
    # func.max() bypasses UTCDateTime, so SQLite hands back a naive UTC value.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _open_referral_counts(session: Session, case_ids: list[int]) -> dict[int, int]:
    if not case_ids:
        return {}
    rows = session.execute(
        select(Referral.case_id, func.count())
        .where(Referral.case_id.in_(case_ids), Referral.status == "sent")
        .group_by(Referral.case_id)
    ).all()
    return {case_id: count for case_id, count in rows}


# -- the conversation staff see ---------------------------------------------------

CONTEXT_BEFORE = timedelta(days=3)  # what the resident said just before the case opened


def conversation(session: Session, case: Case, after_id: int = 0,
                 limit: int = 500) -> list[Message]:
    """The case's messages plus the resident's recent story before it opened, oldest first."""
    if case.resident_id is None:
        return []
    start = case.created_at - CONTEXT_BEFORE
    in_window = Message.created_at >= start
    if case.closed_at is not None:
        in_window = and_(in_window, Message.created_at <= case.closed_at)
    rows = session.scalars(
        select(Message)
        .where(Message.resident_id == case.resident_id, Message.id > after_id,
               or_(Message.case_id == case.id, in_window))
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


# -- figures for the annual review --------------------------------------------------


def cases_between(session: Session, start: datetime, end: datetime) -> list[Case]:
    return list(session.scalars(
        select(Case).where(Case.created_at >= start, Case.created_at < end).order_by(Case.id)
    ))


def open_cases(session: Session) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES))))


def outcome_counts(cases: list[Case]) -> dict[str, int]:
    counts = Counter(c.outcome for c in cases if c.status == "closed" and c.outcome)
    return {code: counts.get(code, 0) for code in OUTCOMES}


def first_response_minutes(cases: list[Case]) -> dict[str, list[float]]:
    """Minutes from opening to the first staff message, per priority."""
    result: dict[str, list[float]] = {p: [] for p in PRIORITY_RANK}
    for case in cases:
        if case.first_response_at is not None and case.priority in result:
            minutes = (case.first_response_at - case.created_at).total_seconds() / 60
            result[case.priority].append(max(minutes, 0.0))
    return result


AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("1日未満", timedelta(days=1)), ("1〜3日", timedelta(days=3)),
    ("3〜7日", timedelta(days=7)), ("7〜30日", timedelta(days=30)), ("30日以上", None),
)


def open_by_age(cases: list[Case], now: datetime) -> dict[str, int]:
    counts = {label: 0 for label, _ in AGE_BUCKETS}
    for case in cases:
        age = now - case.created_at
        for label, limit in AGE_BUCKETS:
            if limit is None or age < limit:
                counts[label] += 1
                break
    return counts
