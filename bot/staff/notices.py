"""Sending queued case notices to Slack: a consumer of the case_notifications outbox.

Rows are queued in the transaction that changed the case (storage/notices.enqueue) and
sent by the worker after commit, claimed with the same lease code as LINE delivery
(storage/leases.claim_heads), one head per case so a card is posted before its thread
messages. Nothing here runs in a Slack request's thread. A notice Slack refuses for good,
or one that cannot be built, is recorded as failed and the case's later notices go on.

Every message we post is remembered (slack_posts), so that a resident's deletion (kind
"erase") deletes the card and every thread message from Slack.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.slack import (
    CaseCard,
    SlackNotifier,
    SlackSendError,
    escape,
    mention,
    notifier_for,
)
from bot.staff.labels import topic_label
from storage import cases
from storage import notices as case_notices
from storage.db import transaction
from storage.leases import claim_heads, still_holds
from storage.models import Case, Message, StaffUser, utcnow
from storage.models.handoff import CaseNotification, SlackPost, SlackThread

log = logging.getLogger(__name__)

SENDING = "sending"
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10
ERASE = "erase"
RELAY_FULL, RELAY_NOTICE = "full", "notice"
BROADCAST = ("renotify", "escalate", "overdue")


@dataclass(frozen=True)
class NoticeSettings:
    """How much of the resident's words reach Slack: masked text ("full"), or only
    "new message on case #n" with a link to the console ("notice")."""

    relay: str = RELAY_FULL
    console_url: str | None = None  # e.g. https://madoguchi.example.jp

    def case_link(self, case_id: int) -> str:
        if not self.console_url:
            return "スタッフ画面でご確認ください。"
        url = f"{self.console_url.rstrip('/')}/staff/cases/{case_id}"
        return f"<{url}|スタッフ画面で開く>"


def settings_for(config: object) -> NoticeSettings:
    relay = getattr(config, "slack_relay", RELAY_FULL)
    return NoticeSettings(relay=relay if relay in (RELAY_FULL, RELAY_NOTICE) else RELAY_FULL,
                          console_url=getattr(config, "public_base_url", None))


def card_for(session: Session, case: Case, settings: NoticeSettings | None = None) -> CaseCard:
    settings = settings or NoticeSettings()
    assignee = session.get(StaffUser, case.assignee_id) if case.assignee_id else None
    full = settings.relay == RELAY_FULL
    return CaseCard(
        case_id=case.id, alias=case.resident_alias, priority=case.priority, status=case.status,
        topics=[topic_label(t) for t in case.topics or []],
        excerpt=opening_excerpt(session, case) if full else "",
        link=None if full else settings.case_link(case.id),
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


# -- the consumer ----------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One notice, read in a short transaction, sent with no transaction open."""

    kind: str
    case_id: int
    card: CaseCard | None
    thread: tuple[str, str] | None
    text: str
    erase: list[tuple[str, str]]


class StaffNotices:
    def __init__(self, factory: sessionmaker[Session], notifier: SlackNotifier, *,
                 settings: NoticeSettings | None = None,
                 clock: Callable[[], datetime] = utcnow, worker_id: str | None = None) -> None:
        self.factory, self.notifier = factory, notifier
        self.settings = settings or NoticeSettings()
        self.clock = clock
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:notices"

    def deliver(self, limit: int = 50) -> int:
        """Send what is due, in order per case; returns how many notices went out."""
        sent = 0
        while True:
            with transaction(self.factory) as session:
                ids = claim_heads(
                    session, CaseNotification, active_status=SENDING, worker_id=self.worker_id,
                    now=self.clock(), lease=LEASE, limit=limit, group="case_id",
                    ready=CaseNotification.next_attempt_at <= self.clock(),
                )
            if not ids:
                return sent
            sent += sum(self._deliver_one(notice_id) for notice_id in ids)

    def _deliver_one(self, notice_id: int) -> int:
        try:
            job = self._read(notice_id)
        except Exception as exc:  # a notice that cannot be built must not block the case
            self._finish(notice_id, "failed", f"could not build: {type(exc).__name__}")
            log.error("slack notice %s could not be built: %s", notice_id, type(exc).__name__)
            return 0
        if job is None:
            return 0
        try:
            posted = self._send(job)
        except SlackSendError as exc:
            self._finish(notice_id, "failed" if exc.permanent else "retry", str(exc))
            return 0
        self._record(job, posted)
        self._finish(notice_id, "sent")
        return 1

    def _read(self, notice_id: int) -> Job | None:
        with transaction(self.factory) as session:
            notice = session.get(CaseNotification, notice_id)
            if notice is None or not still_holds(notice, self.worker_id, SENDING):
                return None
            case = session.get(Case, notice.case_id)
            thread = session.get(SlackThread, notice.case_id)
            where = (thread.channel, thread.ts) if thread else None
            if notice.kind == ERASE:
                posts = session.execute(select(SlackPost.channel, SlackPost.ts)
                                        .where(SlackPost.case_id == notice.case_id)
                                        .order_by(SlackPost.id.desc())).all()
                erase = [(c, t) for c, t in posts]
                if where is not None and where not in erase:
                    erase.append(where)
                return Job(ERASE, notice.case_id, None, where, "", erase)
            if case is None:
                return None
            card = card_for(session, case, self.settings)
            text = _thread_text(session, notice, case, self.clock(), self.settings)
            return Job(notice.kind, case.id, card, where, text, [])

    def _send(self, job: Job) -> list[tuple[str, str]]:
        """The Slack calls for one notice; returns the messages it posted."""
        if job.kind == ERASE:
            for channel, ts in job.erase:
                self.notifier.delete(channel, ts)
            return []
        posted: list[tuple[str, str]] = []
        where = job.thread
        if where is None:
            if job.kind in ("update", "message"):
                return []  # the card is gone (erased) or was never posted
            where = self.notifier.post_card(job.card)  # type: ignore[arg-type]
            self._remember_thread(job.case_id, where)
            posted.append(where)
        elif job.kind in ("new_case", "update"):
            self.notifier.update_card(where[0], where[1], job.card)  # type: ignore[arg-type]
        if job.text:
            posted.append(self.notifier.post_in_thread(
                where[0], where[1], job.text, broadcast=job.kind in BROADCAST))
        return posted

    def _record(self, job: Job, posted: list[tuple[str, str]]) -> None:
        now = self.clock()
        with transaction(self.factory) as session:
            if job.kind == ERASE:
                session.execute(delete(SlackPost).where(SlackPost.case_id == job.case_id))
                session.execute(delete(SlackThread).where(SlackThread.case_id == job.case_id))
                return
            for channel, ts in posted:
                session.add(SlackPost(case_id=job.case_id, channel=channel, ts=ts,
                                      created_at=now))

    def _remember_thread(self, case_id: int, where: tuple[str, str]) -> None:
        with transaction(self.factory) as session:
            if session.get(SlackThread, case_id) is not None:
                return
            case = session.get(Case, case_id)
            newest = session.scalar(
                select(func.max(Message.id)).where(
                    Message.resident_id == case.resident_id, Message.direction == "in")
            ) if case and case.resident_id else None
            session.add(SlackThread(case_id=case_id, channel=where[0], ts=where[1],
                                    last_message_id=newest or 0, created_at=self.clock()))

    def _finish(self, notice_id: int, outcome: str, error: str | None = None) -> None:
        now = self.clock()
        with transaction(self.factory) as session:
            notice = session.get(CaseNotification, notice_id)
            if notice is None or not still_holds(notice, self.worker_id, SENDING):
                return
            notice.lease_until = None
            if outcome == "sent":
                notice.status, notice.sent_at = "sent", now
                return
            notice.last_error = (error or "")[:500]
            if outcome == "failed" or notice.attempts >= MAX_ATTEMPTS:
                notice.status = "failed"
                log.error("slack notice %s failed: %s", notice_id, error)
                return
            log.warning("slack notice %s not sent: %s", notice_id, error)
            notice.status = "pending"
            notice.next_attempt_at = now + timedelta(seconds=min(10 * 2 ** notice.attempts, 600))


def for_services(svc: object) -> StaffNotices | None:
    """The consumer a worker runs, when Slack is configured with a channel."""
    config = svc.config  # type: ignore[attr-defined]
    notifier = notifier_for(config)
    if notifier is None:
        return None
    return StaffNotices(svc.factory, notifier, settings=settings_for(config))  # type: ignore[attr-defined]


def _thread_text(session: Session, notice: CaseNotification, case: Case, now: datetime,
                 settings: NoticeSettings) -> str:
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
        if settings.relay != RELAY_FULL:
            return f"相談 #{case.id} に新しいメッセージがあります。{settings.case_link(case.id)}"
        message = session.get(Message, notice.message_id)
        if message is not None and message.masked_text:
            # The resident's words: escaped, so they cannot mention, link or format.
            return f"相談者（{escape(case.resident_alias)}）: {escape(message.masked_text)}"
    return ""


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
