"""Deleting a resident's data on request (「データを消して」).

What happens, in the caller's transaction (the event that confirmed the deletion):

* messages, case notes, pending outbound sends and every row of any table with a
  ``resident_id`` column (bookings, check-in enrolments and occurrences, and whatever is
  added later) are deleted; future bookings give their place back to the slot first;
* cases stay for statistics (topics, priority, outcome, dates) but are unlinked from the
  resident, closed, and their text (summary, urgent reason, topic evidence, referral notes)
  wiped; the alias on cases and audit entries is replaced, so nothing leads back;
* stored webhook payloads (which hold the LINE user id and the text) are wiped;
* the resident row is reset to a blank newcomer, with a new alias;
* the Slack card and thread messages of their cases are deleted from Slack (an "erase"
  notice the worker sends, bot/staff/notices.py).

The encrypted LINE user id is NOT erased here: the worker needs it to deliver the
confirmation, which is queued in the same transaction, and a reply token may already have
expired (push needs the id). Instead the conversation state is set to ``erasing``, and
``erase_user_ids`` (the sweep in scheduler/jobs/privacy.py) erases the id once no
send to the resident is pending any more. A resident who writes before that simply starts
fresh (the dispatcher cancels the erasure: the id is needed again to answer).

Hook for new tables: a table with a ``resident_id`` column is deleted automatically (children
first). A table that needs anonymising instead, or extra work before its rows go, registers a
function with ``@before_delete`` taking ``(session, resident, now)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, exists, select, update
from sqlalchemy.orm import Session

from storage import bookings, notices
from storage.models import (
    AuditEntry,
    Base,
    Case,
    CaseNote,
    ConversationState,
    InboundEvent,
    Message,
    Outbox,
    Referral,
    Resident,
)
from storage.residents import fresh_alias

log = logging.getLogger(__name__)

ERASING = "erasing"  # ConversationState.flow while the LINE user id waits to be erased
# The retention sweep's marker for an anonymised case (storage/retention.py), so both
# paths leave the same trace and the sweep does not treat these cases again.
DELETED_ALIAS = "-"
# Even if a send never settles, the id does not outlive the outbox's own give-up time.
ERASE_AT_THE_LATEST = timedelta(hours=24)
# Tables handled explicitly below (kept or anonymised), not by the generic resident_id sweep.
_EXPLICIT = {"residents", "cases", "messages", "outbox", "conversation_states"}
Eraser = Callable[[Session, Resident, datetime], None]
_BEFORE_DELETE: list[Eraser] = []


def before_delete(fn: Eraser) -> Eraser:
    """Register extra work to do before a resident's rows are deleted."""
    _BEFORE_DELETE.append(fn)
    return fn


def delete_resident_data(session: Session, resident: Resident, now: datetime) -> dict[str, int]:
    """Delete or anonymise everything about ``resident``; returns row counts per table."""
    session.flush()  # the rows this very turn added (the confirming message) go too
    for fn in (_free_future_bookings, *_BEFORE_DELETE):
        fn(session, resident, now)
    counts = {"cases": _anonymise_cases(session, resident, now)}
    counts["messages"] = _delete(session, Message, Message.resident_id == resident.id)
    counts["outbox"] = _delete(session, Outbox, Outbox.resident_id == resident.id)
    counts.update(_delete_resident_rows(session, resident))
    counts["inbound_events"] = _wipe_events(session, resident)
    session.execute(
        update(AuditEntry).where(AuditEntry.resident_alias == resident.alias)
        .values(resident_alias=None)
    )
    _reset_resident(session, resident, now)
    log.info("resident %s data deleted: %s", resident.id, counts)
    return counts


def erase_user_ids(session: Session, now: datetime) -> int:
    """Erase the LINE user id of residents whose deletion confirmation is no longer pending."""
    pending_send = exists().where(
        Outbox.resident_id == ConversationState.resident_id,
        Outbox.status.in_(("pending", "sending")),
    )
    due = session.scalars(
        select(ConversationState).where(
            ConversationState.flow == ERASING,
            ~pending_send | (ConversationState.updated_at <= now - ERASE_AT_THE_LATEST),
        ).with_for_update(skip_locked=True)  # a resident writing right now keeps the id
    ).all()
    for state in due:
        resident = session.get(Resident, state.resident_id)
        if resident is not None:
            resident.channel_user_id = None
            # The confirmation itself is the last trace; it has been sent (or given up).
            session.execute(delete(Message).where(Message.resident_id == resident.id))
            session.execute(delete(Outbox).where(Outbox.resident_id == resident.id))
        state.flow = state.step = None
        state.data = {}
        state.updated_at = now
    return len(due)


def cancel_erasure(state: ConversationState, now: datetime) -> bool:
    """The resident wrote again before the id was erased: keep it, start fresh."""
    if state.flow != ERASING:
        return False
    state.flow = state.step = None
    state.data, state.not_understood, state.expires_at, state.updated_at = {}, 0, None, now
    return True


# -- steps ----------------------------------------------------------------------------


def _free_future_bookings(session: Session, resident: Resident, now: datetime) -> None:
    """A deleted booking must give its seat back first, or the slot stays full for others."""
    bookings.release_resident(session, resident, now)


def _anonymise_cases(session: Session, resident: Resident, now: datetime) -> int:
    cases = session.scalars(select(Case).where(Case.resident_id == resident.id)).all()
    for case in cases:
        case.resident_id = None
        case.resident_alias = DELETED_ALIAS
        case.summary = None
        case.urgent_reason = None
        case.risk_reason = None  # may quote the resident too
        case.topic_evidence = {}
        if case.status != "closed":
            case.status, case.closed_at = "closed", now
            case.outcome = case.outcome or "resident_deleted"
    ids = [c.id for c in cases]
    if ids:
        session.execute(delete(CaseNote).where(CaseNote.case_id.in_(ids)))
        session.execute(update(Referral).where(Referral.case_id.in_(ids)).values(note=None))
        notices.withdraw(session, ids, now)
    return len(cases)


def _delete_resident_rows(session: Session, resident: Resident) -> dict[str, int]:
    """Every other table with a resident_id column, children before parents."""
    counts: dict[str, int] = {}
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in _EXPLICIT or "resident_id" not in table.c:
            continue
        counts[table.name] = _delete(session, table, table.c.resident_id == resident.id)
    return counts


def _delete(session: Session, target: Table | type, where: object) -> int:
    statement = delete(target).where(where)  # type: ignore[arg-type]
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount or 0


def _wipe_events(session: Session, resident: Resident) -> int:
    """Raw webhook payloads hold the user id and the text. Events not yet handled keep
    theirs: they are what the resident wrote after confirming and must still be answered."""
    result = session.execute(
        update(InboundEvent)
        .where(InboundEvent.resident_key == resident.resident_key,
               InboundEvent.status != "pending")
        .values(payload={"wiped": True})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _reset_resident(session: Session, resident: Resident, now: datetime) -> None:
    resident.alias = fresh_alias(session)  # a returning resident is a stranger to staff
    resident.district = None
    resident.language = "ja"
    resident.welcomed_at = None
    state = session.get(ConversationState, resident.id)
    if state is None:
        state = ConversationState(resident_id=resident.id, data={}, not_understood=0)
        session.add(state)
    state.flow, state.step, state.data = ERASING, None, {}
    state.not_understood, state.expires_at, state.updated_at = 0, None, now
    session.flush()
