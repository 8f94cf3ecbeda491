"""Sending queued case notices to Slack, after the transaction that queued them committed.

Used by the SLA sweep (scheduler/jobs/sla.py) and, right after a Slack claim, by the Slack
listener. Each notice is leased before the HTTP call, so two senders never post it twice,
and retried with back-off when Slack is unavailable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.slack import CaseCard, SlackNotifier, SlackSendError, mention
from bot.staff.labels import topic_label
from storage import cases
from storage import notices as case_notices
from storage.db import transaction
from storage.models import Case, Message, StaffUser, utcnow
from storage.models.handoff import CaseNotification, SlackThread

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10


def card_for(session: Session, case: Case) -> CaseCard:
    assignee = session.get(StaffUser, case.assignee_id) if case.assignee_id else None
    return CaseCard(
        case_id=case.id, alias=case.resident_alias, priority=case.priority, status=case.status,
        topics=[topic_label(t) for t in case.topics or []], excerpt=opening_excerpt(session, case),
        assignee=(assignee.display_name or assignee.username) if assignee else None,
        outcome=cases.OUTCOMES.get(case.outcome or ""),
    )


def opening_excerpt(session: Session, case: Case) -> str:
    """The masked text of the message that opened the case (or the first one after)."""
    if case.resident_id is None:
        return ""
    resident_msgs = select(Message.masked_text).where(
        Message.resident_id == case.resident_id, Message.direction == "in",
        Message.masked_text.is_not(None))
    before = session.scalar(resident_msgs.where(Message.created_at <= case.created_at)
                            .order_by(Message.id.desc()).limit(1))
    if before:
        return before
    return session.scalar(resident_msgs.order_by(Message.id).limit(1)) or ""


def deliver(factory: sessionmaker[Session], notifier: SlackNotifier,
            clock: Callable[[], datetime] = utcnow, limit: int = 50) -> int:
    """Send what is due; returns how many notices went out."""
    with transaction(factory) as session:
        ids = _claim(session, clock(), limit)
    return sum(_deliver_one(factory, notifier, notice_id, clock) for notice_id in ids)


def _claim(session: Session, now: datetime, limit: int) -> list[int]:
    due = or_(CaseNotification.status == "pending",
              and_(CaseNotification.status == "sending", CaseNotification.lease_until < now))
    ids = list(session.scalars(
        select(CaseNotification.id)
        .where(due, CaseNotification.next_attempt_at <= now)
        .order_by(CaseNotification.id).limit(limit)
        .with_for_update(skip_locked=True)
    ))
    if ids:
        session.execute(
            update(CaseNotification).where(CaseNotification.id.in_(ids))
            .values(status="sending", lease_until=now + LEASE,
                    attempts=CaseNotification.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return ids


def _deliver_one(factory: sessionmaker[Session], notifier: SlackNotifier, notice_id: int,
                 clock: Callable[[], datetime]) -> int:
    with transaction(factory) as session:
        notice = session.get(CaseNotification, notice_id)
        case = session.get(Case, notice.case_id) if notice else None
        if notice is None or case is None or notice.status != "sending":
            return 0
        kind, card = notice.kind, card_for(session, case)
        thread = session.get(SlackThread, case.id)
        where = (thread.channel, thread.ts) if thread else None
        text = _thread_text(session, notice, case, clock())
    try:
        if where is None:
            where = notifier.post_card(card)
            _remember_thread(factory, case.id, where, clock())
        elif kind in ("new_case", "update"):
            notifier.update_card(where[0], where[1], card)
        if text:
            notifier.post_in_thread(where[0], where[1], text,
                                    broadcast=kind in ("renotify", "escalate", "overdue"))
    except SlackSendError as exc:
        _mark_retry(factory, notice_id, str(exc), clock())
        return 0
    _mark_sent(factory, notice_id, clock())
    return 1


def _thread_text(session: Session, notice: CaseNotification, case: Case, now: datetime) -> str:
    minutes = int((now - case.created_at).total_seconds() // 60)
    if notice.kind == "renotify":
        return f":bell: 相談 #{case.id} はまだ担当者が決まっていません（{minutes}分経過）。"
    if notice.kind == "escalate":
        supervisors = session.scalars(select(StaffUser.slack_user_id).where(
            StaffUser.is_supervisor.is_(True), StaffUser.active.is_(True),
            StaffUser.slack_user_id.is_not(None)))
        who = mention(list(supervisors)) or "管理者の方"
        return (f":rotating_light: {who} 緊急の相談 #{case.id} が{minutes}分間未対応です。"
                "対応をお願いします。")
    if notice.kind == "overdue":
        return f":hourglass: 相談 #{case.id} は対応目標時間を過ぎています。"
    if notice.kind == "message" and notice.message_id:
        message = session.get(Message, notice.message_id)
        if message is not None and message.masked_text:
            return f"相談者（{case.resident_alias}）: {message.masked_text}"
    return ""


def _remember_thread(factory: sessionmaker[Session], case_id: int, where: tuple[str, str],
                     now: datetime) -> None:
    with transaction(factory) as session:
        if session.get(SlackThread, case_id) is not None:
            return
        case = session.get(Case, case_id)
        newest = session.scalar(
            select(func.max(Message.id)).where(
                Message.resident_id == case.resident_id, Message.direction == "in")
        ) if case and case.resident_id else None
        session.add(SlackThread(case_id=case_id, channel=where[0], ts=where[1],
                                last_message_id=newest or 0, created_at=now))


def _mark_sent(factory: sessionmaker[Session], notice_id: int, now: datetime) -> None:
    with transaction(factory) as session:
        notice = session.get(CaseNotification, notice_id)
        if notice is not None:
            notice.status, notice.sent_at, notice.lease_until = "sent", now, None


def _mark_retry(factory: sessionmaker[Session], notice_id: int, error: str,
                now: datetime) -> None:
    log.warning("slack notice %s not sent: %s", notice_id, error)
    with transaction(factory) as session:
        notice = session.get(CaseNotification, notice_id)
        if notice is None:
            return
        notice.last_error, notice.lease_until = error[:500], None
        if notice.attempts >= MAX_ATTEMPTS:
            notice.status = "failed"
            return
        notice.status = "pending"
        notice.next_attempt_at = now + timedelta(seconds=min(10 * 2 ** notice.attempts, 600))


def queue_new_resident_messages(session: Session, now: datetime) -> int:
    """Copy (masked) resident messages into their case's Slack thread, once each."""
    queued = 0
    rows = session.execute(
        select(SlackThread, Case).join(Case, Case.id == SlackThread.case_id)
        .where(Case.status.in_(cases.OPEN_STATUSES), Case.resident_id.is_not(None))
    ).all()
    for thread, case in rows:
        new_ids = list(session.scalars(
            select(Message.id).where(
                Message.resident_id == case.resident_id, Message.direction == "in",
                Message.sender == "resident", Message.id > thread.last_message_id)
            .order_by(Message.id)))
        for message_id in new_ids:
            case_notices.enqueue(session, case, "message", now, message_id=message_id)
            queued += 1
        if new_ids:
            thread.last_message_id = new_ids[-1]
    return queued
