"""Data retention: what is kept, for how long, and the sweep that forgets the rest.

Policy (RETENTION_DAYS, default 365; EVENT_RETENTION_DAYS, default 30):

* A case closed more than RETENTION_DAYS ago is anonymised: its summary, the urgent reason
  and topic evidence (both may quote the resident), its notes and referral notes are
  removed and it is unlinked from the resident. What remains (topics, priority, window,
  outcome, dates) feeds the yearly statistics of 重層的支援体制整備事業 and names no one;
  audit entries about it keep what was done and by whom, but lose the resident's alias.
  (The same marker as storage/privacy.py, which does this at once on a resident's request.)
* Conversation history older than RETENTION_DAYS is deleted, except for residents with an
  open case: staff still need it, and it goes once that case has been closed long enough.
  Messages written on an anonymised case are deleted with it.
* Raw inbound events (encrypted LINE payloads with user ids and text) and finished outbox
  rows are transport records: deleted EVENT_RETENTION_DAYS after they were finished.
* Conversation state untouched for FLOW_STATE_RETENTION_HOURS (default 24) is deleted:
  an abandoned booking keeps a nickname and a phone number there. (A state waiting to
  erase a LINE user id after a deletion is left to that sweep, scheduler/jobs/privacy.py.)

Work is done in batches, each its own transaction, so the sweep never holds long locks;
every run leaves one audit entry (action "retention") with counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.cases import OPEN_STATUSES
from storage.db import transaction
from storage.models import (
    AuditEntry,
    Case,
    CaseNote,
    ConversationState,
    InboundEvent,
    Message,
    Outbox,
    Referral,
)
from storage.privacy import ERASING

log = logging.getLogger(__name__)

ANONYMISED_ALIAS = "-"  # marks an anonymised case, so a second run leaves it alone
FINISHED_EVENTS = ("done", "ignored", "failed")
FINISHED_SENDS = ("sent", "failed")
BATCH_SIZE = 500


class RetentionConfigError(ValueError):
    pass


@dataclass(frozen=True)
class RetentionPolicy:
    days: int = 365
    event_days: int = 30
    flow_state_hours: int = 24

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RetentionPolicy:
        """From Config's environment (bot.config is the one reader of it)."""
        return cls(
            days=_days(env, "RETENTION_DAYS", cls.days),
            event_days=_days(env, "EVENT_RETENTION_DAYS", cls.event_days),
            flow_state_hours=_days(env, "FLOW_STATE_RETENTION_HOURS", cls.flow_state_hours),
        )


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RetentionConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise RetentionConfigError(f"{name} must be at least 1")
    return value


@dataclass
class RetentionReport:
    cases_anonymised: int = 0
    case_notes_deleted: int = 0
    referral_notes_cleared: int = 0
    messages_deleted: int = 0
    events_deleted: int = 0
    sends_deleted: int = 0
    flow_states_deleted: int = 0
    cutoffs: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}

    def summary(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.counts().items())


def purge(
    factory: sessionmaker[Session], now: datetime, policy: RetentionPolicy | None = None,
    batch_size: int = BATCH_SIZE,
) -> RetentionReport:
    """Apply the policy once (idempotent) and record it in the audit log."""
    policy = policy or RetentionPolicy()
    cutoff = now - timedelta(days=policy.days)
    event_cutoff = now - timedelta(days=policy.event_days)
    report = RetentionReport(cutoffs={"history": cutoff.isoformat(),
                                      "transport": event_cutoff.isoformat()})
    _in_batches(factory, batch_size, lambda s, n: _anonymise_cases(s, cutoff, n, report))
    report.messages_deleted += _delete_all(factory, batch_size, Message, _old_messages(cutoff))
    report.events_deleted = _delete_all(factory, batch_size, InboundEvent,
                                        _old_events(event_cutoff))
    report.sends_deleted = _delete_all(factory, batch_size, Outbox, _old_sends(event_cutoff))
    report.flow_states_deleted = sweep_flow_states(
        factory, now - timedelta(hours=policy.flow_state_hours), batch_size)
    with transaction(factory) as session:
        session.add(AuditEntry(action="retention", detail=report.summary()[:1000], created_at=now))
    log.info("retention: %s", report.summary())
    return report


def _in_batches(factory: sessionmaker[Session], size: int,
                step: Callable[[Session, int], int]) -> int:
    total = 0
    while True:
        with transaction(factory) as session:
            done = step(session, size)
        total += done
        if done < size:
            return total


def _delete_all(factory: sessionmaker[Session], size: int, model: type, condition: object) -> int:
    return _in_batches(factory, size, lambda s, n: _delete_ids(s, model, condition, n))


def _anonymise_cases(session: Session, cutoff: datetime, limit: int,
                     report: RetentionReport) -> int:
    cases = session.scalars(
        select(Case).where(
            Case.status == "closed", Case.closed_at <= cutoff,
            Case.resident_alias != ANONYMISED_ALIAS,
        ).order_by(Case.id).limit(limit)
    ).all()
    ids = [case.id for case in cases]
    if not ids:
        return 0
    # The case's own messages go with it, whatever the resident's other cases.
    report.messages_deleted += _rowcount(session.execute(
        delete(Message).where(Message.case_id.in_(ids))))
    report.case_notes_deleted += _rowcount(session.execute(
        delete(CaseNote).where(CaseNote.case_id.in_(ids))))
    report.referral_notes_cleared += _rowcount(session.execute(
        update(Referral).where(Referral.case_id.in_(ids), Referral.note.is_not(None))
        .values(note=None)))
    # Who staff saw stays in the audit log, but no longer names the resident.
    session.execute(update(AuditEntry).where(AuditEntry.case_id.in_(ids))
                    .values(resident_alias=None))
    for case in cases:
        case.resident_id = None
        case.resident_alias = ANONYMISED_ALIAS
        case.summary = None
        case.urgent_reason = None
        case.risk_reason = None  # may quote the resident too
        case.topic_evidence = {}
    report.cases_anonymised += len(ids)
    return len(ids)


def sweep_flow_states(factory: sessionmaker[Session], cutoff: datetime,
                      batch_size: int = BATCH_SIZE) -> int:
    """Delete conversation state nobody touched since `cutoff` (a fresh one is made on the
    resident's next message)."""
    stale = and_(ConversationState.updated_at < cutoff,
                 or_(ConversationState.flow.is_(None), ConversationState.flow != ERASING))

    def step(session: Session, limit: int) -> int:
        ids = session.scalars(select(ConversationState.resident_id).where(stale)
                              .order_by(ConversationState.resident_id).limit(limit)).all()
        if ids:
            session.execute(delete(ConversationState)
                            .where(ConversationState.resident_id.in_(ids), stale))
        return len(ids)

    return _in_batches(factory, batch_size, step)


def _old_messages(cutoff: datetime) -> object:
    open_case = exists().where(
        Case.resident_id == Message.resident_id, Case.status.in_(OPEN_STATUSES))
    return and_(Message.created_at < cutoff, ~open_case)


def _old_events(cutoff: datetime) -> object:
    finished_at = or_(
        InboundEvent.processed_at < cutoff,
        and_(InboundEvent.processed_at.is_(None), InboundEvent.received_at < cutoff),
    )
    return and_(InboundEvent.status.in_(FINISHED_EVENTS), finished_at)


def _old_sends(cutoff: datetime) -> object:
    finished_at = or_(
        Outbox.sent_at < cutoff, and_(Outbox.sent_at.is_(None), Outbox.created_at < cutoff))
    return and_(Outbox.status.in_(FINISHED_SENDS), finished_at)


def _delete_ids(session: Session, model: type, condition: object, limit: int) -> int:
    # Select ids first: DELETE … LIMIT is not portable, and batches keep locks short.
    ids = session.scalars(
        select(model.id).where(condition).order_by(model.id).limit(limit)  # type: ignore[attr-defined]
    ).all()
    if ids:
        session.execute(delete(model).where(model.id.in_(ids)))  # type: ignore[attr-defined]
    return len(ids)


def _rowcount(result: object) -> int:
    return max(getattr(result, "rowcount", 0) or 0, 0)
