"""What staff do to a case, shared by the console and Slack, each in the caller's transaction.

Messages to the resident go through storage.outbox (the worker delivers them: the reply
token while fresh, else a push), and every act is written to the audit log with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.replies import Reply
from storage import audit, cases, conversation, outbox
from storage.models import Case, Resident, StaffUser

log = logging.getLogger(__name__)

CLOSING_FALLBACK = "ご相談ありがとうございました。またいつでも声をかけてください。"


def claim(session: Session, case_id: int, staff: StaffUser | int, now: datetime,
          via: str = "console") -> cases.ClaimResult:
    staff_id = staff if isinstance(staff, int) else staff.id
    result = cases.claim(session, case_id, staff_id, now)
    if result.case is not None:
        action = ("slack_claim" if via == "slack" else "claim") if result.won else "claim_lost"
        audit.record(session, action, now=now, staff_id=staff_id, case_id=result.case.id,
                     resident_alias=result.case.resident_alias)
    return result


def reply(session: Session, case: Case, staff_id: int, text: str, now: datetime,
          via: str = "console") -> None:
    """Send a staff message to the resident in the same chat."""
    text = text.strip()
    if not text:
        raise cases.CaseError("返信が空です。")
    if case.assignee_id != staff_id:
        raise cases.CaseError(
            "このケースの担当者だけが返信できます。先に「担当する」を押してください。")
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    if resident is None or not resident.active:
        raise cases.CaseError("相談者に届けられません（友だち解除またはデータ削除済み）。")
    cases.record_staff_reply(case, now)
    outbox.enqueue(session, resident, [Reply(text)], now=now, sender="staff",
                   staff_id=staff_id, case_id=case.id)
    audit.record(session, "slack_reply" if via == "slack" else "reply", now=now,
                 staff_id=staff_id, case_id=case.id, resident_alias=case.resident_alias,
                 detail=f"{len(text)} characters")


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
        raise cases.CaseError("担当者（または管理者）だけが終了できます。")
    cases.close(session, case, outcome, now, watch=watch is not None)
    resident = session.get(Resident, case.resident_id) if case.resident_id else None
    if watch is not None:
        if resident is None:
            raise cases.CaseError("相談者のデータがないため、見守りに登録できません。")
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
        from handlers.content import load_pack

        return load_pack().text("closing")
    except Exception:  # noqa: BLE001 (a broken pack must not block closing a case)
        log.warning("content pack closing text unavailable; using the built-in one")
        return CLOSING_FALLBACK


def _enrol_watch(session: Session, case: Case, resident: Resident, staff_id: int | None,
                 watch: WatchRequest, now: datetime) -> None:
    """Enrol the household for 見守り check-ins (storage/checkins.py); consent is required."""
    from storage import checkins

    try:
        schedule = checkins.Schedule.weekly(watch.weekdays, checkins.parse_hhmm(watch.at))
        checkins.enrol(session, resident, schedule, consent_by=watch.consent_by,
                       consent_at=now, now=now, staff_id=staff_id, case_id=case.id)
    except checkins.CheckinError as exc:
        raise cases.CaseError(str(exc)) from None
    case.watch_enrolled_at = now


def add_note(session: Session, case: Case, staff_id: int, text: str, now: datetime) -> None:
    cases.add_note(session, case, staff_id, text, now)
    audit.record(session, "note", now=now, staff_id=staff_id, case_id=case.id,
                 resident_alias=case.resident_alias)


def refer(session: Session, case: Case, staff_id: int, window_id: str, note: str | None,
          now: datetime, known_windows: set[str]) -> None:
    if window_id not in known_windows:
        raise cases.CaseError("紹介先の窓口を選んでください。")
    cases.refer(session, case, window_id, staff_id, now, note=note)
    audit.record(session, "refer", now=now, staff_id=staff_id, case_id=case.id,
                 resident_alias=case.resident_alias, detail=f"window={window_id}")


def set_referral(session: Session, referral_id: int, status: str, staff_id: int,
                 now: datetime) -> int:
    referral = cases.set_referral_status(session, referral_id, status, now)
    audit.record(session, "referral_confirmed" if status == "confirmed" else "referral_declined",
                 now=now, staff_id=staff_id, case_id=referral.case_id,
                 detail=f"window={referral.window_id}")
    return referral.case_id
