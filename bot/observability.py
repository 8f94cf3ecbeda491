"""Prometheus metrics (GET /metrics) and structured JSON logs with request ids.

Two kinds of numbers, kept apart on purpose:

* Counters and the NLU histogram live in the process that does the work (webhook
  requests in web processes; events, sends and NLU latency in workers).
* Everything that is a *state of the database* (queue depth and age, open cases by
  priority and SLA state, failed events and sends, check-ins) is read at scrape time by
  `DatabaseCollector`, so any web process answers the same and no shared memory is needed.

Counters across processes (docs/deploy.md, "Metrics"): a web service running several gunicorn
workers sets PROMETHEUS_MULTIPROC_DIR (a directory private to that service, empty at start);
its /metrics then sums the counters of all its workers (prometheus_client multiprocess mode;
only counters and histograms are kept per process, which sum correctly even after a worker
exits). Each worker process serves its own counters on WORKER_METRICS_PORT, so Prometheus
scrapes the web service once and every worker process; nothing is shared between services.

Privacy: log lines carry ids and counts only. As a second line of defence the JSON
formatter masks anything shaped like a LINE user, group or room id, and never writes an
exception's message (it may quote what a resident wrote), only its type and frames.
"""

from __future__ import annotations

import contextvars
import hmac
import json
import logging
import os
import re
import sys
import traceback
import uuid
from collections import Counter as Counter_
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, load_only, sessionmaker

from handlers.sla import Targets
from storage import events as event_log
from storage import outbox as outbox_log
from storage.cases import OPEN_STATUSES
from storage.models import Base, Case, InboundEvent, Outbox, utcnow

log = logging.getLogger(__name__)

# -- process counters ---------------------------------------------------------

HTTP_REQUESTS = Counter(
    "madoguchi_http_requests", "HTTP requests answered, by Flask endpoint and status",
    ["endpoint", "status"],
)
EVENTS_RECEIVED = Counter(
    "madoguchi_events_received", "Webhook events accepted, and how many were new",
    ["channel", "kind"],
)
EVENTS_PROCESSED = Counter("madoguchi_events_processed", "Inbound events handled by a worker")
EVENTS_FAILED = Counter(
    "madoguchi_events_failed", "Attempts to handle an inbound event that raised (retried)"
)
SENDS = Counter("madoguchi_sends", "Outbox sends delivered, by channel and route",
                ["channel", "via"])
SEND_ERRORS = Counter(
    "madoguchi_send_errors",
    "Sends the channel API refused or could not take (channel=line: LINE API errors)",
    ["channel", "outcome"],
)
NLU_SECONDS = Histogram(
    "madoguchi_nlu_seconds", "Time to analyse one resident message",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def count_received(channel: str, received: int, new: int) -> None:
    """For the webhook: events in a delivery, and how many were not seen before."""
    EVENTS_RECEIVED.labels(channel, "all").inc(received)
    EVENTS_RECEIVED.labels(channel, "new").inc(new)


def count_send(channel: str, status: str, via: str | None = None) -> None:
    """For the worker: one delivery attempt's outcome (sent | retry | failed)."""
    if status == "sent":
        SENDS.labels(channel, via or "unknown").inc()
    else:
        SEND_ERRORS.labels(channel, status).inc()


# -- database state, read at scrape time ---------------------------------------

CHECKIN_STATES = ("sent", "answered", "escalated")


class DatabaseCollector:
    """Gauges computed from the database on every scrape; a failing part is skipped."""

    def __init__(self, factory: sessionmaker[Session], goal: Targets | None = None) -> None:
        self.factory = factory
        self.goal = goal or Targets()

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("madoguchi_database_up", "1 when the database answered")
        try:
            families = list(self._section(self._queues)) + list(self._section(self._cases))
        except Exception as exc:  # the scrape itself must still answer
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families
        try:
            yield from self._section(self._checkins)
        except Exception as exc:  # another layer's tables: absent or not migrated yet
            log.debug("metrics: check-ins skipped (%s)", type(exc).__name__)

    def _section(self, build: Callable[[Session], Iterable[Metric]]) -> list[Metric]:
        # A session per part: on PostgreSQL one failed query spoils its transaction.
        with self.factory() as session:
            return list(build(session))

    @staticmethod
    def _queues(session: Session) -> Iterator[Metric]:
        pending, age = event_log.backlog(session)
        yield _gauge("madoguchi_inbound_backlog", "Inbound events not finished yet", pending)
        yield _gauge("madoguchi_inbound_backlog_age_seconds",
                     "Age of the oldest unfinished inbound event", age)
        yield _gauge("madoguchi_inbound_failed",
                     "Stored inbound events given up after repeated failures",
                     _count(session, InboundEvent, InboundEvent.status == "failed"))
        yield _gauge("madoguchi_outbox_backlog", "Sends waiting for delivery",
                     outbox_log.backlog(session))
        oldest = session.scalar(
            select(func.min(Outbox.created_at)).where(
                Outbox.status.in_(("pending", outbox_log.SENDING)))
        )
        yield _gauge("madoguchi_outbox_backlog_age_seconds", "Age of the oldest undelivered send",
                     _age(oldest))
        yield _gauge("madoguchi_outbox_failed", "Stored sends that failed for good",
                     _count(session, Outbox, Outbox.status == "failed"))

    def _cases(self, session: Session) -> Iterator[Metric]:
        now = utcnow()
        open_cases = GaugeMetricFamily(
            "madoguchi_cases_open", "Open cases by priority, status and SLA state",
            labels=["priority", "status", "sla_state"],
        )
        escalated = GaugeMetricFamily(
            "madoguchi_cases_escalated_open",
            "Open cases escalated to supervisors (an unclaimed urgent case past its limit)",
            labels=["priority"],
        )
        counts: Counter_[tuple[str, str, str]] = Counter_()
        escalations: Counter_[str] = Counter_()
        for case in session.scalars(
            select(Case).where(Case.status.in_(OPEN_STATUSES)).options(load_only(
                Case.priority, Case.status, Case.created_at, Case.first_response_at,
                Case.escalated_at))
        ):
            counts[(case.priority, case.status, _sla_state(case, now, self.goal))] += 1
            if case.escalated_at is not None:
                escalations[case.priority] += 1
        for labels, count in sorted(counts.items()):
            open_cases.add_metric(list(labels), count)
        for priority, count in sorted(escalations.items()):
            escalated.add_metric([priority], count)
        yield open_cases
        yield escalated
        unclaimed = GaugeMetricFamily(
            "madoguchi_cases_unclaimed_oldest_age_seconds",
            "How long the oldest case nobody has claimed has waited, by priority",
            labels=["priority"],
        )
        for priority, oldest in session.execute(
            select(Case.priority, func.min(Case.created_at))
            .where(Case.status == "new").group_by(Case.priority)
        ).all():
            unclaimed.add_metric([priority], _age(oldest))
        yield unclaimed

    @staticmethod
    def _checkins(session: Session) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "madoguchi_checkins", "Stored check-ins sent, answered and escalated",
            labels=["table", "state"],
        )
        for table in _checkin_tables():
            for state, count in _checkin_counts(session, table).items():
                family.add_metric([table.name, state], count)
        yield family


def _sla_state(case: Case, now: datetime, goal: Targets) -> str:
    """The SLA timers' own reading (handlers/sla.py), so the queue and alerts agree."""
    try:
        from handlers import sla

        return sla.sla_state(case, now, goal).state
    except Exception as exc:  # not installed yet, or no content pack: still count the case
        log.debug("metrics: SLA state unavailable (%s)", type(exc).__name__)
        return "unknown"


def _checkin_tables() -> list[Table]:
    return [t for name, t in sorted(Base.metadata.tables.items()) if "checkin" in name]


def _checkin_counts(session: Session, table: Table) -> dict[str, int]:
    """sent/answered/escalated from `<state>_at` columns, or else from a status column."""
    columns = table.c
    counts: dict[str, int] = {}
    for state in CHECKIN_STATES:
        column = columns.get(f"{state}_at")
        if column is not None:
            counts[state] = session.scalar(
                select(func.count()).select_from(table).where(column.is_not(None))) or 0
    if not counts and "status" in columns:
        for status, count in session.execute(
            select(columns.status, func.count()).group_by(columns.status)
        ).all():
            counts[str(status)] = count
    return counts


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _count(session: Session, model: Any, condition: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(condition)) or 0


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type, so SQLite hands back a naive UTC value.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _age(oldest: datetime | None) -> float:
    oldest = _aware(oldest)
    return 0.0 if oldest is None else max((utcnow() - oldest).total_seconds(), 0.0)


# -- exposition ---------------------------------------------------------------


class _Union:
    """Several collectors read as one registry by generate_latest()."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def collect(self) -> Iterator[Metric]:
        for part in self.parts:
            yield from part.collect()


def multiprocess_dir() -> str | None:
    # prometheus_client itself reads this variable; we follow the same setting.
    from bot.config import process_settings

    return process_settings().prometheus_multiproc_dir


def process_registry() -> Any:
    """This process's counters, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    if multiprocess_dir() is None:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class PushQuotaCollector:
    """LINE's monthly push quota at scrape time (read at most every 10 minutes): alert on
    madoguchi_line_push_used / madoguchi_line_push_limit > 0.8."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def collect(self) -> Iterator[Metric]:
        try:
            quota = self.channel.quota(max_age=600)
        except Exception as exc:  # LINE unreachable: the other metrics still answer
            log.warning("metrics: LINE quota not read (%s)", type(exc).__name__)
            return
        yield _gauge("madoguchi_line_push_limit",
                     "LINE's monthly push message quota (-1: no limit)",
                     -1 if quota.limit is None else quota.limit)
        yield _gauge("madoguchi_line_push_used", "LINE push messages used this month",
                     quota.used)


def render_metrics(factory: sessionmaker[Session] | None, goal: Targets | None = None,
                   line: Any = None) -> bytes:
    parts: list[Any] = [process_registry()]
    if factory is not None:
        parts.append(DatabaseCollector(factory, goal or Targets()))
    if line is not None and hasattr(line, "quota"):
        parts.append(PushQuotaCollector(line))
    return generate_latest(_Union(*parts))


def start_worker_metrics_server(port: int, addr: str | None = None) -> Any:
    """A worker process's own counters over HTTP; returns the server (for shutdown)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(
        port, addr=addr or "127.0.0.1",
        registry=process_registry(),
    )
    log.info("worker metrics on port %d", server.server_port)
    return server


def _metrics_allowed(config: Any) -> bool | None:
    """True with the right bearer token; open without one only in the embedded demo.
    None: no token is configured outside the demo, so /metrics is switched off."""
    token = config.metrics_token if config is not None else None
    if not token:
        return True if config is None or config.embedded_demo else None
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


# -- request ids ----------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "madoguchi_request_id", default=None
)


def current_request_id() -> str | None:
    return _request_id.get()


def _incoming_request_id() -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    # A proxy's id is kept only if it is safe to write into logs and headers.
    return given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex


def install(app: Flask) -> None:
    """Request ids on every request, the HTTP counter, and GET /metrics."""

    @app.before_request
    def _start() -> None:
        g.request_id = _incoming_request_id()
        g.request_id_token = _request_id.set(g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        HTTP_REQUESTS.labels(request.endpoint or "none", str(response.status_code)).inc()
        return response

    @app.teardown_request
    def _forget(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            _request_id.reset(token)

    def metrics() -> Response:
        svc = app.extensions.get("madoguchi")
        allowed = _metrics_allowed(svc.config if svc is not None else None)
        if allowed is None:
            return Response("set METRICS_TOKEN to serve /metrics", 403)
        if not allowed:
            return Response("unauthorized", 401, {"WWW-Authenticate": "Bearer"})
        body = render_metrics(svc.factory if svc is not None else None,
                              svc.config.sla if svc is not None else None,
                              svc.channels.get("line") if svc is not None else None)
        return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST})

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])


# -- JSON logs ----------------------------------------------------------------

# LINE ids: U (user), C (group), R (room) followed by 32 hex digits.
_LINE_ID = re.compile(r"\b[UCR][0-9a-f]{32}\b")
_HANDLER_MARK = "_madoguchi_json"
QUIET_LOGGERS = ("sqlalchemy.engine", "sqlalchemy.pool", "linebot", "urllib3",
                 # a line per sweep run every few seconds drowns what matters
                 "apscheduler.executors")


# A calendar feed's URL carries its secret (calendar apps cannot sign in).
_FEED_TOKEN = re.compile(r"(/staff/bookings/feed/[^/\s]+/)[^/\s?\"]+(\.ics)")


def redact(text: str) -> str:
    return _FEED_TOKEN.sub(r"\1[token]\2", _LINE_ID.sub("[line-id]", text))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, process."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "process": record.process,
            "thread": record.threadName,
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            document["request_id"] = request_id
        if record.exc_info and record.exc_info[0] is not None:
            document["exception"] = record.exc_info[0].__name__
            # Where only (file, line, function): the message may quote a resident's words.
            document["traceback"] = [
                f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}"
                for f in traceback.extract_tb(record.exc_info[2])
            ]
        return json.dumps(document, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """LOG_FORMAT=text for a developer's terminal; LINE ids are still masked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_json_logging(level: str = "INFO", stream: Any = None,
                           log_format: str = "json") -> logging.Handler:
    """Route the root logger through one JSON handler (replacing an earlier one of ours)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "text":
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Even at DEBUG: SQLAlchemy would log bound parameters (analysis labels quote evidence),
    # the LINE SDK logs response bodies, and APScheduler logs every sweep run.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler
