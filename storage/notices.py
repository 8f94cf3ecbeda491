"""Notices to staff about a case (its Slack card and thread), recorded in the caller's
transaction and delivered later by a consumer that leases them; nothing here talks to Slack.

The one way to record a notice: ``enqueue(session, case, kind, now, message_id=...)``;
``withdraw`` when a resident's data is deleted (their cases leave Slack).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Case
from storage.models.handoff import CaseNotification, SlackPost, SlackThread

# new_case: post the card; update: redraw it; message: copy a resident message into the
# thread; renotify / escalate / overdue: a reminder in the thread (SLA policy); erase:
# delete the card and every message posted about the case (a resident's deletion).
KINDS = ("new_case", "update", "message", "renotify", "escalate", "overdue", "erase")


def enqueue(session: Session, case: Case, kind: str, now: datetime, *,
            message_id: int | None = None) -> CaseNotification | None:
    """Record a notice for the case's card (posting the card first if it has none).

    Updates and relayed messages only make sense for a card already posted, so without one
    they record nothing; a message already copied to the thread is not queued twice.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    thread = session.get(SlackThread, case.id)
    if kind in ("update", "message") and thread is None:
        return None
    if kind == "message":
        if message_id is None or (thread is not None and message_id <= thread.last_message_id):
            return None  # already copied to the thread
        thread.last_message_id = message_id  # so the sweep's safety net skips it
    notice = CaseNotification(case_id=case.id, kind=kind, message_id=message_id,
                              status="pending", attempts=0, next_attempt_at=now,
                              created_at=now)
    session.add(notice)
    return notice


def withdraw(session: Session, case_ids: list[int], now: datetime) -> None:
    """The cases' resident deleted their data: notices not yet sent would relay text that no
    longer exists, and what was posted (the card, relayed messages) is deleted from Slack by
    an "erase" notice, sent after any notice already in flight for the case."""
    if not case_ids:
        return
    session.execute(delete(CaseNotification).where(
        CaseNotification.case_id.in_(case_ids), CaseNotification.status == "pending"))
    in_slack = set(session.scalars(
        select(SlackThread.case_id).where(SlackThread.case_id.in_(case_ids))))
    in_slack |= set(session.scalars(
        select(SlackPost.case_id).where(SlackPost.case_id.in_(case_ids))))
    for case_id in sorted(in_slack):
        session.add(CaseNotification(case_id=case_id, kind="erase", status="pending",
                                     attempts=0, next_attempt_at=now, created_at=now))
