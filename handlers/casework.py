"""The case service: every change to a case goes through one function here, whoever acts —
the conversation (handlers/flows), the scheduler's sweeps, the staff console or Slack.

Each runs in the caller's transaction and writes, with the change, what must go with it:
the audit entry for staff acts, a message to the resident through the outbox, and a notice
for the case's Slack card (storage.notices; delivered later, never from here). The rows
themselves are kept consistent by storage.cases; the response targets are handlers.sla.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.content import load_pack
from handlers.replies import Reply
from nlu.analysis import Analysis
from storage import audit, cases, checkins, conversation, notices, outbox
from storage.models import Case, CaseNote, Message, Resident, StaffUser

log = logging.getLogger(__name__)

CaseError = cases.CaseError
ClaimResult = cases.ClaimResult
CLOSING_FALLBACK = "ご相談ありがとうございました。またいつでも声をかけてください。"


# -- the resident's side: opening, joining, writing to a person ------------------------


@dataclass(frozen=True)
class Filed:
    case: Case
    opened: bool  # a new case (False: the resident's open case was joined)


def open_case(
    session: Session, resident: Resident, *, reason: str, priority: str, now: datetime,
    analysis: Analysis | None = None, message_id: int | None = None,
    urgent_reason: str | None = None, window_id: str | None = None,
    note: str | None = None, summary: str | None = None,
    risk: str | None = None, risk_reason: str | None = None,
) -> Filed:
    """Open (or join) the resident's case for a concern, from a message or a sweep.

    The analysis gives the topics (with their evidence), whom it is about and the risk band
    and score (``risk`` overrides the band, e.g. after the resident answered the safety
    check; ``risk_reason`` tells staff why); message_id
    files that message under the case; note is a system note for staff (summary, the
    case's summary if it has none). Staff hear of a new case, and of a joined one on its card.
    """
    if risk is None and analysis is not None and analysis.risk != "none":
        risk = analysis.risk
    case, opened = cases.open_or_join(
        session, resident, reason=reason, priority=priority, now=now,
        topics=analysis.topic_ids if analysis else None,
        topic_evidence={t.id: list(t.evidence) for t in analysis.topics} if analysis else None,
        urgent_reason=urgent_reason, about=analysis.about if analysis else "self",
        window_id=window_id, risk=risk,
        risk_score=analysis.risk_score if analysis else None, risk_reason=risk_reason,
    )
    # One flush for the note and the notice, at the next query: sweeps open many cases.
    with session.no_autoflush:
        if message_id is not None:
            _file_message(session, case, message_id)
        if note:
            session.add(CaseNote(case_id=case.id, staff_id=None, text=note, created_at=now))
        if summary and not case.summary:
            case.summary = summary
        notices.enqueue(session, case, "new_case" if opened else "update", now)
    return Filed(case, opened)


def resident_wrote(session: Session, case: Case, message_id: int | None,
                   now: datetime) -> None:
    """A message from the resident while a person holds the case: it goes to that person."""
    if message_id is not None:
        _file_message(session, case, message_id)
    cases.resident_wrote(case)
    notices.enqueue(session, case, "message", now, message_id=message_id)


def _file_message(session: Session, case: Case, message_id: int) -> None:
    message = session.get(Message, message_id)
    if message is not None and message.case_id is None:
        message.case_id = case.id


# -- staff acts (console and Slack) ------------------------------------------------------


def claim(session: Session, case_id: int, staff: StaffUser | int, now: datetime,
          via: str = "console") -> ClaimResult:
    """Take a new case; of two people claiming at once exactly one wins."""
    staff_id = staff if isinstance(staff, int) else staff.id
    result = cases.claim(session, case_id, staff_id, now)
    if result.case is not None:
        if result.changed:
            notices.enqueue(session, result.case, "update", now)
        action = ("slack_claim" if via == "slack" else "claim") if result.won else "claim_lost"
        audit.record(session, action, now=now, staff_id=staff_id, case_id=result.case.id,
                     resident_alias=result.case.resident_alias)
    return result


def release(session: Session, case: Case, staff_id: int, now: datetime) -> None:
    """Give a claimed case back to the queue."""
    cases.release(case, staff_id)
    notices.enqueue(session, case, "update", now)
    audit.record(session, "release", now=now, staff_id=staff_id, case_id=case.id,
                 resident_alias=case.resident_alias)


def reply(session: Session, case: Case, staff_id: int, text: str, now: datetime,
          via: str = "console") -> None:
    """Send a staff message to the resident in the same chat (through the outbox)."""
    text = text.strip()
    if not text:
        raise CaseError("返信が空です。")
    if case.assignee_id != staff_id:
        raise CaseError(
            "このケースの担当者だけが返信できます。先に「担当する」を押してください。")
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    if resident is None or not resident.active:
        raise CaseError("相談者に届けられません（友だち解除またはデータ削除済み）。")
    cases.record_staff_reply(case, now)
    outbox.enqueue(session, resident, [Reply(text)], now=now, sender="staff",
                   staff_id=staff_id, case_id=case.id)
    audit.record(session, "slack_reply" if via == "slack" else "reply", now=now,
                 staff_id=staff_id, case_id=case.id, resident_alias=case.resident_alias,
                 detail=f"{len(text)} characters")


def add_note(session: Session, case: Case, staff_id: int | None, text: str,
             now: datetime) -> None:
    """A note for staff; staff_id None is the system (the bot, a sweep): not audited."""
    cases.add_note(session, case, staff_id, text, now)
    if staff_id is not None:
        audit.record(session, "note", now=now, staff_id=staff_id, case_id=case.id,
                     resident_alias=case.resident_alias)


def refer(session: Session, case: Case, staff_id: int, window_id: str, note: str | None,
          now: datetime, known_windows: set[str]) -> None:
    if window_id not in known_windows:
        raise CaseError("紹介先の窓口を選んでください。")
    cases.refer(session, case, window_id, staff_id, now, note=note)
    audit.record(session, "refer", now=now, staff_id=staff_id, case_id=case.id,
                 resident_alias=case.resident_alias, detail=f"window={window_id}")


def set_referral(session: Session, referral_id: int, status: str, staff_id: int,
                 now: datetime) -> int:
    """The receiving window confirmed (or declined) a referral; returns its case id."""
    referral = cases.set_referral_status(session, referral_id, status, now)
    audit.record(session, "referral_confirmed" if status == "confirmed" else "referral_declined",
                 now=now, staff_id=staff_id, case_id=referral.case_id,
                 detail=f"window={referral.window_id}")
    return referral.case_id


@dataclass(frozen=True)
class WatchRequest:
    """見守り after closure: which weekdays (0 = Monday), at what time, who consented."""

    weekdays: tuple[int, ...]
    at: str  # "HH:MM", Asia/Tokyo
    consent_by: str


def close(session: Session, case: Case, staff: StaffUser | object, outcome: str,
          now: datetime, watch: WatchRequest | None = None) -> None:
    """Close with an outcome; the resident gets a short closing message and the bot again."""
    staff_id = getattr(staff, "id", None)
    is_admin = getattr(staff, "role", None) == "admin"
    if case.assignee_id != staff_id and not is_admin:
        raise CaseError("担当者（または管理者）だけが終了できます。")
    cases.close(case, outcome, now, watch=watch is not None)
    notices.enqueue(session, case, "update", now)
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    if watch is not None:
        if resident is None:
            raise CaseError("相談者のデータがないため、見守りに登録できません。")
        _enrol_watch(session, case, resident, staff_id, watch, now)
    if resident is not None and resident.active and resident.channel_user_id:
        outbox.enqueue(session, resident, [Reply(_closing_text())], now=now, sender="system",
                       staff_id=staff_id, case_id=case.id)
        # Whatever flow the resident was in before the hand-off is stale now.
        conversation.clear(conversation.load(session, resident.id, now), now)
    audit.record(session, "close", now=now, staff_id=staff_id, case_id=case.id,
                 resident_alias=case.resident_alias,
                 detail=f"outcome={outcome}" + (" watch=enrolled" if watch else ""))


def _closing_text() -> str:
    try:
        return load_pack().text("closing")
    except Exception:  # noqa: BLE001 (a broken pack must not block closing a case)
        log.warning("content pack closing text unavailable; using the built-in one")
        return CLOSING_FALLBACK


def _enrol_watch(session: Session, case: Case, resident: Resident, staff_id: int | None,
                 watch: WatchRequest, now: datetime) -> None:
    """Enrol the household for 見守り check-ins (storage/checkins.py); consent is required."""
    try:
        schedule = checkins.Schedule.weekly(watch.weekdays, checkins.parse_hhmm(watch.at))
        checkins.enrol(session, resident, schedule, consent_by=watch.consent_by,
                       consent_at=now, now=now, staff_id=staff_id, case_id=case.id)
    except checkins.CheckinError as exc:
        raise CaseError(str(exc)) from None
    case.watch_enrolled_at = now


# -- response targets (the SLA sweep) ------------------------------------------------------


def remind(session: Session, case: Case, kind: str, now: datetime, *, slack: bool) -> None:
    """Record a reminder the case earned (handlers.sla.reminder_due); the console shows the
    flags whatever the channel, Slack gets a notice only when it is configured."""
    case.last_notified_at = now
    if kind == "escalate":
        case.escalated_at = now
    if slack:
        notices.enqueue(session, case, kind, now)


def announce(session: Session, case: Case, now: datetime) -> None:
    """A case Slack has not heard of yet (opened while Slack was not configured)."""
    notices.enqueue(session, case, "new_case", now)
