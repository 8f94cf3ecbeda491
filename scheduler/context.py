"""The process's services, for jobs (APScheduler stores jobs by function path only).

Jobs see the services through these protocols, which bot.services.Services satisfies; the
scheduler does not import bot/ (the layer that builds them)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from handlers.sla import Targets
from storage.bookings import ReminderTimes
from storage.retention import RetentionPolicy


class JobSettings(Protocol):
    """The settings jobs read (bot.config.Config)."""

    @property
    def sla(self) -> Targets: ...
    @property
    def retention(self) -> RetentionPolicy: ...
    @property
    def booking_reminders(self) -> ReminderTimes: ...
    @property
    def booking_horizon_days(self) -> int: ...
    @property
    def slack_enabled(self) -> bool: ...


class CaseNotices(Protocol):
    """Case notices to staff (Slack), provided by bot/ when Slack is configured; the sweep
    queues them, the worker sends them."""

    def queue_resident_messages(self, session: Session, now: datetime) -> int: ...


class JobServices(Protocol):
    @property
    def config(self) -> JobSettings: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def factory(self) -> sessionmaker[Session]: ...
    def case_notices(self) -> CaseNotices | None: ...


_services: JobServices | None = None


def install(svc: JobServices) -> None:
    global _services
    _services = svc


def services() -> JobServices:
    if _services is None:
        raise RuntimeError("scheduler context not installed")
    return _services
