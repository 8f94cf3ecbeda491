"""The worker: drains stored events in order per resident, answers them, delivers replies.

Each event is handled in one transaction together with its effects (history,
cases, outbox rows), so a crash either loses the whole attempt (the event is
claimed again when its lease runs out) or none of it. Delivery happens after
commit and is retried from the outbox; pushes carry X-Line-Retry-Key.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import handlers
from bot import observability
from bot.channels.base import TOKEN_REFUSED, Channel, Delivery, SendResult
from handlers.content import live as content_live
from handlers.inbound import FOLLOW, TEXT, UNFOLLOW
from handlers.replies import Reply
from handlers.turn import Turn
from nlu.analysis import Analysis
from storage import events, outbox, residents
from storage.db import transaction
from storage.leases import still_holds
from storage.models import InboundEvent, Message, Outbox, Resident, utcnow

if TYPE_CHECKING:
    from bot.services import Services
    from bot.staff.notices import StaffNotices

log = logging.getLogger(__name__)

# How long a reading of LINE's push quota is trusted before asking again.
QUOTA_MAX_AGE = 300.0

Analyzer = Callable[[str, datetime], Analysis]
BatchAnalyzer = Callable[[list[str], datetime], list[Analysis]]
Handler = Callable[[Turn], list[Reply]]


def default_analyzer(text: str, now: datetime) -> Analysis:
    import nlu

    with observability.NLU_SECONDS.time():
        return nlu.analyze(text, now=now)


def default_batch_analyzer(texts: list[str], now: datetime) -> list[Analysis]:
    import nlu

    began = time.perf_counter()
    analyses = nlu.analyze_many(texts, now=now)
    per_text = (time.perf_counter() - began) / max(len(texts), 1)
    for _ in texts:
        observability.NLU_SECONDS.observe(per_text)
    return analyses


class Worker:
    @classmethod
    def for_services(cls, svc: Services, **overrides: Any) -> Worker:
        """A worker with the process's settings (Config) and channels, and the consumer
        of case notices for Slack when Slack is configured."""
        from bot.staff.notices import for_services

        config = svc.config
        settings: dict[str, Any] = {
            "reply_token_ttl": config.reply_token_ttl, "event_lease": config.event_lease,
            "send_lease": config.send_lease, "delivery_threads": config.delivery_threads,
            "notices": for_services(svc),
        }
        return cls(svc.factory, svc.channels, **{**settings, **overrides})

    def __init__(
        self,
        factory: sessionmaker[Session],
        channels: dict[str, Channel],
        *,
        analyze: Analyzer = default_analyzer,
        analyze_batch: BatchAnalyzer | None = default_batch_analyzer,
        handle: Handler = handlers.handle,
        clock: Callable[[], datetime] = utcnow,
        reply_token_ttl: timedelta = timedelta(seconds=50),
        worker_id: str | None = None,
        event_lease: timedelta = events.EVENT_LEASE,
        send_lease: timedelta = outbox.SEND_LEASE,
        delivery_threads: int = 4,
        notices: StaffNotices | None = None,
    ) -> None:
        self.factory = factory
        self.channels = channels
        self.analyze = analyze
        self.analyze_batch = analyze_batch
        self.handle = handle
        self.clock = clock
        self.reply_token_ttl = reply_token_ttl
        self.event_lease, self.send_lease = event_lease, send_lease
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.ready = threading.Event()
        # The second outbox: case notices for staff in Slack (None without Slack).
        self.notices = notices
        self._warm = False  # the FAQ index is built ahead (run with warm_up)
        self._senders = ThreadPoolExecutor(
            max_workers=delivery_threads, thread_name_prefix="send"
        )

    # -- events ---------------------------------------------------------------

    def drain_once(self, limit: int = 20) -> int:
        """Claim and handle one batch of events, then deliver what they queued."""
        self._follow_content()
        with transaction(self.factory) as session:
            ids = events.claim(session, self.id, self.clock(), limit, lease=self.event_lease)
        analyses = self._analyse_batch(ids)
        for event_id in ids:
            self.process(event_id, analyses.get(event_id))
        self.deliver()
        self.deliver_notices()
        return len(ids)

    def _follow_content(self) -> None:
        """Each batch reads the content version published now (staff edits, rollbacks);
        a warmed worker rebuilds its FAQ index here, before a resident waits for it."""
        if content_live.refresh(self.factory) and self._warm:
            handlers.warm_up()

    def _analyse_batch(self, ids: list[int]) -> dict[int, Analysis]:
        """Read the batch's texts in one batched GiNZA pass, outside any transaction (so
        SQLite's write lock is not held while Japanese is parsed). On any trouble, each
        event falls back to its own analysis, where failures are handled per event."""
        if self.analyze_batch is None or not ids:
            return {}
        texts: dict[int, str] = {}
        with self.factory() as session:
            for event in session.scalars(select(InboundEvent).where(InboundEvent.id.in_(ids))):
                channel = self.channels.get(event.channel)
                inbound = channel.parse(event.payload, event.received_at) if channel else None
                if inbound is not None and inbound.kind == TEXT and inbound.text:
                    texts[event.id] = inbound.text
        if not texts:
            return {}
        try:
            results = self.analyze_batch(list(texts.values()), self.clock())
        except Exception as exc:
            log.error("batch analysis failed (%s); analysing one by one", type(exc).__name__)
            return {}
        return dict(zip(texts, results, strict=True))

    def drain(self, max_rounds: int = 1000) -> int:
        """Handle everything that is claimable now (tests and the CLI)."""
        total = 0
        for _ in range(max_rounds):
            handled = self.drain_once()
            total += handled
            if not handled:
                break
        return total

    def process(self, event_id: int, analysis: Analysis | None = None) -> None:
        try:
            with transaction(self.factory) as session:
                self._process(session, event_id, analysis)
            observability.EVENTS_PROCESSED.inc()
        except Exception as exc:
            observability.EVENTS_FAILED.inc()
            where = traceback.extract_tb(exc.__traceback__)[-1]
            # Exception type and place only: messages may quote resident text.
            reason = f"{type(exc).__name__} at {os.path.basename(where.filename)}:{where.lineno}"
            log.error("event %s failed: %s", event_id, reason)
            with transaction(self.factory) as session:
                events.give_back(session, event_id, reason, self.clock())

    def _process(self, session: Session, event_id: int, analysis: Analysis | None) -> None:
        event = session.get(InboundEvent, event_id)
        if event is None or not still_holds(event, self.id, events.PROCESSING):
            return
        now = self.clock()
        channel = self.channels.get(event.channel)
        inbound = channel.parse(event.payload, event.received_at) if channel else None
        if inbound is None or inbound.user_id is None or inbound.kind == "unknown":
            self._finish(event, "ignored", now)
            return
        resident = residents.get_or_create(
            session, resident_key=event.resident_key or "", channel=event.channel,
            user_id=inbound.user_id, now=now,
        )
        if inbound.kind == UNFOLLOW:
            resident.active = False  # no reply token on unfollow; nothing to send
            self._finish(event, "done", now)
            return
        if inbound.kind == FOLLOW:
            resident.active = True
        if inbound.kind != TEXT or not inbound.text:
            analysis = None
        elif analysis is None or analysis.text != inbound.text:
            analysis = self.analyze(inbound.text, now)
        message = self._record_inbound(session, resident, event, inbound.kind, inbound.text,
                                       analysis, now)
        replies = self.handle(Turn(session, resident, inbound, analysis, now, message))
        if replies:
            fresh = inbound.reply_token is not None
            outbox.enqueue(
                session, resident, replies, now=now,
                reply_token=inbound.reply_token if fresh else None,
                reply_token_expires_at=event.received_at + self.reply_token_ttl if fresh else None,
                inbound_event_id=event.id,
                priority=outbox.HIGH if analysis is not None and analysis.urgent else None,
            )
        self._finish(event, "done", now)
        log.info("event %s handled: %s, %d replies", event.id, inbound.kind, len(replies))

    @staticmethod
    def _record_inbound(
        session: Session, resident: Resident, event: InboundEvent, kind: str,
        text: str | None, analysis: Analysis | None, now: datetime,
    ) -> Message:
        labels = None
        if analysis is not None:
            labels = analysis.to_dict()
            for private in ("text", "pii", "lemmas"):
                labels.pop(private, None)
        message = Message(
            resident_id=resident.id, direction="in", sender="resident", kind=kind,
            text=text, masked_text=analysis.masked_text() if analysis else text,
            analysis=labels, inbound_event_id=event.id, created_at=now,
        )
        session.add(message)
        session.flush()  # its id files it under a case and relays it to staff
        return message

    @staticmethod
    def _finish(event: InboundEvent, status: str, now: datetime) -> None:
        event.status, event.processed_at, event.lease_until = status, now, None

    # -- delivery -------------------------------------------------------------

    def deliver(self, resident_key: str | None = None, limit: int = 50) -> int:
        """Send claimable outbox rows; the database is not held during HTTP calls."""
        sent = 0
        while True:
            with transaction(self.factory) as session:
                ids = outbox.claim(session, self.id, self.clock(), limit, resident_key,
                                   lease=self.send_lease)
            if not ids:
                return sent
            # Claimed rows belong to different residents (one head each), so sending them
            # side by side keeps every resident's order; HTTP waits overlap.
            sent += sum(self._senders.map(self._deliver_one, ids))

    def _deliver_one(self, send_id: int) -> int:
        with transaction(self.factory) as session:
            send = session.get(Outbox, send_id)
            if send is None or not still_holds(send, self.id, outbox.SENDING):
                return 0
            resident = session.get(Resident, send.resident_id)
            user_id = resident.channel_user_id if resident else None
            now = self.clock()
            fresh = (
                send.reply_token is not None
                and send.reply_token_expires_at is not None
                and now < send.reply_token_expires_at
            )
            # An earlier attempt that crashed mid-reply may have spent the token.
            tried_reply_before = send.reply_attempted_at is not None
            if fresh:
                send.reply_attempted_at = send.reply_attempted_at or now
            try:
                replies = [Reply.from_dict(m) for m in send.messages]
            except Exception as exc:  # a row that cannot be read back must not block the queue
                outbox.mark_failed(send, f"unreadable row: {type(exc).__name__}")
                log.error("send %s failed: unreadable row", send_id)
                return 0
            delivery = Delivery(
                user_id=user_id or "", replies=replies,
                idempotency_key=send.idempotency_key,
                reply_token=send.reply_token if fresh else None,
                may_push=not tried_reply_before,
            )
            channel = self.channels.get(send.channel)
            normal_push = delivery.reply_token is None and send.priority != outbox.HIGH
        # Asked outside the transaction: it may be an HTTP call (cached for minutes).
        held = normal_push and channel is not None and self._push_quota_short(channel)
        if user_id is None or channel is None:
            result_status, error = "failed", "resident deleted or channel not configured"
            result = None
        elif held:
            result = None
            result_status, error = "failed", "push quota kept for staff and urgent messages"
            observability.count_send(channel.name, "failed")
        else:
            try:
                result = channel.send(delivery)
            except Exception as exc:  # a poison row: record it, let the resident's next go
                result = SendResult("failed", error=f"send raised {type(exc).__name__}")
            result_status, error = result.status, result.error
            observability.count_send(channel.name, result_status, result.via)
        with transaction(self.factory) as session:
            send = session.get(Outbox, send_id)
            if send is None or not still_holds(send, self.id, outbox.SENDING):
                return 0
            now = self.clock()
            if result_status == "sent" and result is not None:
                outbox.mark_sent(send, result.via or channel.name, now)
                return 1
            if result_status == TOKEN_REFUSED:  # our earlier, interrupted reply went through
                outbox.mark_sent(send, "reply", now)
                return 1
            if result_status == "retry":
                retry_after = result.retry_after if result else None
                outbox.mark_retry(send, error or "retry", now, retry_after)
            else:
                outbox.mark_failed(send, error or "failed")
            log.warning("send %s %s: %s", send_id, send.status, error)
            return 0

    def _push_quota_short(self, channel: Channel) -> bool:
        """Only the reserve of the monthly push quota is left (channels without a quota,
        or a quota LINE did not tell us, never hold anything back)."""
        read = getattr(channel, "quota", None)
        if read is None:
            return False
        try:
            return bool(read(max_age=QUOTA_MAX_AGE).short)
        except Exception as exc:
            log.warning("push quota not read: %s", type(exc).__name__)
            return False

    def deliver_notices(self) -> int:
        """Send queued case notices to Slack (after the LINE replies: residents first)."""
        return self.notices.deliver() if self.notices is not None else 0

    # -- loop -----------------------------------------------------------------

    def run(self, stop: threading.Event, idle_sleep: float = 0.2, warm_up: bool = True) -> None:
        if warm_up:
            import nlu

            nlu.load()  # in this thread: the pipeline is used only from here
            content_live.refresh(self.factory)
            handlers.warm_up()
            self._warm = True
        self.ready.set()
        log.info("worker %s ready", self.id)
        while not stop.is_set():
            try:
                busy = self.drain_once()
                busy += self.deliver() + self.deliver_notices()
            except Exception as exc:  # database away: wait and try again, lose nothing
                log.error("worker loop error: %s", type(exc).__name__)
                busy = 0
                stop.wait(2.0)
            if not busy:
                stop.wait(idle_sleep)
