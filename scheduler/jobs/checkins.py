"""The 見守り sweep: send what fell due, then walk the ladder (reminder → escalation case).

Run every SWEEP_SECONDS by the one scheduler, with the runner's coalesce=True and
misfire_grace_time=None, on purpose: a sweep missed while the process was down runs once
on start, however late, and decides from durable rows what is still owed — the newest
slot still meaningful (the same Tokyo day, or within an hour) is sent and its ladder
starts from then; older slots are recorded as missed for staff, never sent in a burst.
Each slot's Checkin row, its outbox row and the enrolment's advanced cursor commit in one
transaction, so a restart between "sent" and "recorded" cannot happen: both or neither.
Batches are locked (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on SQLite), so
an overlapping run skips rather than doubles.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.orm import Session, sessionmaker

from common.clock import TOKYO, weekday_name
from handlers import casework
from handlers.flows.checkin import checkin_replies, reminder_replies
from handlers.replies import Reply
from scheduler.runner import register_sweep
from storage import checkins as store
from storage import outbox
from storage.db import transaction
from storage.models import Checkin, CheckinEnrolment, Resident, utcnow

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30
BATCH = 2000
HISTORY_ROWS = 5
HISTORY_SPAN = timedelta(days=120)  # how far back the escalation note looks


@dataclass
class SweepResult:
    resumed: int = 0
    sent: int = 0
    missed: int = 0
    deferred: int = 0  # due inside quiet hours: sent (or reminded) when they end
    skipped: int = 0  # already recorded (a second scheduler, a manual re-run)
    settled: int = 0  # answered by a message, found by the sweep
    reminded: int = 0
    escalated: int = 0
    cancelled: int = 0

    def add(self, other: SweepResult) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def sweep() -> None:
    """The APScheduler job (stored by path; it finds the process's services itself)."""
    from scheduler import context

    result = run_sweep(context.services().factory, utcnow())
    if any(getattr(result, f.name) for f in fields(result)):
        log.info("checkin sweep: %s", result)


def run_sweep(factory: sessionmaker[Session], now: datetime, batch: int = BATCH
              ) -> SweepResult:
    result = SweepResult()
    with transaction(factory) as session:
        result.resumed = store.resume_due(session, now)
    _in_batches(factory, lambda s: send_due(s, now, batch), result)
    _in_batches(factory, lambda s: settle_replies(s, now, batch), result)
    _in_batches(factory, lambda s: walk_ladder(s, now, batch), result)
    if result.missed:
        log.warning("checkin sweep recorded %d missed check-ins", result.missed)
    return result


def _in_batches(factory: sessionmaker[Session], step: Callable[[Session], SweepResult],
                total: SweepResult) -> None:
    """One transaction per batch, until a batch finds nothing to do."""
    while True:
        with transaction(factory) as session:
            done = step(session)
        total.add(done)
        if not any(getattr(done, f.name) for f in fields(done)):
            return


# -- sending -------------------------------------------------------------------------


def send_due(session: Session, now: datetime, limit: int) -> SweepResult:
    result = SweepResult()
    due = store.due_enrolments(session, now, limit)
    if not due:
        return result
    recipients = _recipients(session, {e.resident_id for e in due})
    existing = _existing_slots(session, due)
    rows: list[dict] = []
    for enrolment in due:
        plan = store.plan(enrolment, now)
        if plan.wait_until is not None:
            result.deferred += 1
            continue
        rows += [_row(enrolment, slot, "missed", now, note=DOWN_NOTE)
                 for slot in plan.missed if (enrolment.id, slot) not in existing]
        result.missed += plan.uncounted_missed
        if plan.send_slot is None:
            continue
        if (enrolment.id, plan.send_slot) in existing:
            result.skipped += 1
            continue
        recipient = recipients.get(enrolment.resident_id)
        if recipient is None or not recipient.reachable:
            rows.append(_row(enrolment, plan.send_slot, "missed", now, note=UNREACHABLE_NOTE))
            continue
        rows.append(_row(enrolment, plan.send_slot, "sent", now, sent_at=now,
                         idempotency_key=store.occurrence_key(enrolment.id, plan.send_slot),
                         action_at=store.first_action_at(enrolment, now)))
    if not rows:
        return result
    # One multi-row INSERT; the new ids go into the answer buttons.
    inserted = session.execute(
        insert(Checkin).returning(Checkin.id, Checkin.resident_id, Checkin.status,
                                  Checkin.idempotency_key), rows
    ).all()
    hour = now.astimezone(TOKYO).hour
    sends = [(recipients[row.resident_id], checkin_replies(row.id, hour), row.idempotency_key)
             for row in inserted if row.status == "sent"]
    outbox.enqueue_batch(session, sends, now)
    result.sent = len(sends)
    result.missed += len(inserted) - len(sends)
    return result


DOWN_NOTE = "スケジューラ停止中のため未送信"
UNREACHABLE_NOTE = "友だち解除中のため未送信"


def _row(enrolment: CheckinEnrolment, slot: datetime, status: str, now: datetime,
         **values: object) -> dict:
    return {"enrolment_id": enrolment.id, "resident_id": enrolment.resident_id,
            "due_at": slot, "status": status, "created_at": now, **values}


def _recipients(session: Session, ids: set[int]) -> dict[int, Row]:
    """What a send needs of each resident, without decrypting their LINE user id."""
    rows = session.execute(
        select(Resident.id, Resident.resident_key, Resident.channel,
               (Resident.active & Resident.channel_user_id.is_not(None)).label("reachable"))
        .where(Resident.id.in_(ids))
    )
    return {row.id: row for row in rows}


def _existing_slots(session: Session, due: Sequence[CheckinEnrolment]
                    ) -> set[tuple[int, datetime]]:
    """Slots already recorded (the unique key would refuse them anyway; skip them kindly)."""
    rows = session.execute(
        select(Checkin.enrolment_id, Checkin.due_at)
        .where(Checkin.enrolment_id.in_([e.id for e in due]),
               Checkin.due_at >= min(e.next_due_at for e in due if e.next_due_at))
    )
    return {(enrolment_id, due_at) for enrolment_id, due_at in rows}


def _by_id(session: Session, model: type, ids: set[int]) -> dict[int, object]:
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(ids)))}


# -- answers found by the sweep -----------------------------------------------------


def settle_replies(session: Session, now: datetime, limit: int) -> SweepResult:
    """A check-in the resident wrote back to (in any flow) is answered: no reminder."""
    result = SweepResult()
    open_rows = list(session.scalars(
        select(Checkin).where(Checkin.id.in_(store.replied_query()))
        .limit(limit).with_for_update(skip_locked=True)
    ))
    for checkin, labels in _with_labels(session, open_rows):
        _settle(session, checkin, labels, now)
        result.settled += 1
    return result


def _with_labels(session: Session, rows: list[Checkin]
                 ) -> list[tuple[Checkin, list[dict | None]]]:
    found = store.replied_since_sent(session, rows)
    return [(c, found[c.id]) for c in rows if c.id in found]


def _settle(session: Session, checkin: Checkin, labels: list[dict | None], now: datetime
            ) -> None:
    labels = [lab or {} for lab in labels]
    if any(lab.get("urgent") for lab in labels):
        answer = "urgent"
    elif any(lab.get("intent") == "checkin_unwell" for lab in labels):
        answer = "unwell"
    elif any(lab.get("intent") == "checkin_ok" for lab in labels):
        answer = "ok"
    else:
        answer = "message"
    store.record_answer(checkin, answer, now)
    if answer in ("urgent", "unwell"):
        resident = session.get(Resident, checkin.resident_id)
        if resident is not None:
            filed = casework.open_case(
                session, resident, reason="checkin",
                priority="urgent" if answer == "urgent" else "high", now=now,
                note=f"見守り: お声がけの後のメッセージ（{store.ANSWER_LABELS[answer]}）")
            checkin.case_id = filed.case.id


# -- the ladder ----------------------------------------------------------------------


def walk_ladder(session: Session, now: datetime, limit: int) -> SweepResult:
    result = SweepResult()
    due = store.open_for_ladder(session, now, limit)
    if not due:
        return result
    enrolments = _by_id(session, CheckinEnrolment, {c.enrolment_id for c in due})
    recipients = _recipients(session, {c.resident_id for c in due})
    replied = store.replied_since_sent(session, due)
    reminders: list[tuple[Any, list[Reply], str]] = []
    escalations: list[tuple[CheckinEnrolment, Checkin]] = []
    for checkin in due:
        enrolment = enrolments[checkin.enrolment_id]
        resident = recipients.get(checkin.resident_id)
        if checkin.id in replied:
            _settle(session, checkin, replied[checkin.id], now)
            result.settled += 1
        elif enrolment.status != "active" or resident is None:
            checkin.status, checkin.action_at = "cancelled", None
            checkin.note = "見守りの休止・終了のため中止"
            result.cancelled += 1
        elif (checkin.status == "sent" and enrolment.remind_after_minutes > 0
              and resident.reachable):  # no reminder to someone who unfollowed: escalate
            reminder = _remind(enrolment, checkin, resident, now)
            if reminder is None:
                result.deferred += 1
            else:
                reminders.append(reminder)
        else:
            escalations.append((enrolment, checkin))
    outbox.enqueue_batch(session, reminders, now)
    result.reminded = len(reminders)
    if escalations:
        residents = _by_id(session, Resident, {c.resident_id for _, c in escalations})
        history = store.recent_many(session, {e.id for e, _ in escalations},
                                    HISTORY_ROWS + 1, since=now - HISTORY_SPAN)
        escalate(session, [(e, c, residents[c.resident_id]) for e, c in escalations],
                 history, now)
    result.escalated = len(escalations)
    return result


def _remind(enrolment: CheckinEnrolment, checkin: Checkin, resident: Row,
            now: datetime) -> tuple[Row, list[Reply], str] | None:
    """Move the check-in to "reminded"; the reminder to send, or None inside quiet hours."""
    quiet = store.view(enrolment).quiet
    if quiet is not None and quiet.contains(now):
        checkin.action_at = quiet.shift(now)  # never a reminder at night
        return None
    assert checkin.sent_at is not None
    checkin.status, checkin.reminded_at = "reminded", now
    checkin.action_at = store.escalate_at(enrolment, checkin.sent_at, now)
    key = store.occurrence_key(enrolment.id, checkin.due_at, "reminder")
    return resident, reminder_replies(checkin.id), key


def escalate(session: Session, due: Sequence[tuple[CheckinEnrolment, Checkin, Resident]],
             history: dict[int, list[Checkin]], now: datetime) -> None:
    """No answer: a case for the staff queue, with the recent history and who to call."""
    for enrolment, checkin, resident in due:
        note = escalation_note(enrolment, checkin, history.get(enrolment.id, []))
        filed = casework.open_case(session, resident, reason="checkin", priority="high",
                                   now=now, note=note, summary=note)
        checkin.status, checkin.escalated_at, checkin.action_at = "escalated", now, None
        checkin.case_id = filed.case.id


def escalation_note(enrolment: CheckinEnrolment, checkin: Checkin,
                    history: Sequence[Checkin]) -> str:
    """For staff only: what was sent, what came back lately, and the supporter to call."""
    lines = [f"見守り: {_local(checkin.sent_at)} のお声がけに返答がありません。"]
    if checkin.reminded_at:
        lines.append(f"再送: {_local(checkin.reminded_at)}（返答なし）")
    lines.append("最近の見守り:")
    for past in [p for p in history if p.id != checkin.id][:HISTORY_ROWS]:
        label = store.STATE_LABELS[store.state_of(past)]
        answer = f"（{store.ANSWER_LABELS[past.answer]}）" if past.answer else ""
        lines.append(f"・{_local(past.due_at)} {label}{answer}")
    if enrolment.supporter_name:
        role = enrolment.supporter_role or "支援者"
        phone = enrolment.supporter_phone or "電話番号未登録"
        lines.append(f"連絡先: {role} {enrolment.supporter_name} {phone}")
    return "\n".join(lines)


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(TOKYO)
    return f"{local.month}/{local.day}({weekday_name(local)}) {local:%H:%M}"


register_sweep("checkins", sweep, SWEEP_SECONDS)
