"""The objects a process shares: configuration, database, channels."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Channel
from bot.channels.line import LineChannel
from bot.channels.simulator import SimulatorChannel
from bot.config import Config
from handlers.content import use_pack
from storage.db import make_engine, make_session_factory


@dataclass
class Services:
    config: Config
    engine: Engine
    factory: sessionmaker[Session]
    channels: dict[str, Channel]
    # Set once everything this process must run (worker, NLU) is ready for traffic.
    ready: threading.Event = field(default_factory=threading.Event)

    def case_notices(self) -> SlackCaseNotices | None:
        """Case notices for the SLA sweep, when Slack is configured (scheduler.context)."""
        from bot.channels.slack import notifier_for

        notifier = notifier_for(self.config)
        return SlackCaseNotices(notifier) if notifier is not None else None


@dataclass(frozen=True)
class SlackCaseNotices:
    """bot.staff.notices behind the scheduler's CaseNotices protocol (scheduler/ may not
    import bot/)."""

    notifier: Any

    def queue_resident_messages(self, session: Session, now: datetime) -> int:
        from bot.staff import notices

        return notices.queue_new_resident_messages(session, now)


def build_channels(config: Config) -> dict[str, Channel]:
    channels: dict[str, Channel] = {"simulator": SimulatorChannel()}
    if config.line_channel_access_token:
        channels["line"] = LineChannel(config.line_channel_access_token, config.line_api_endpoint,
                                       config.line_timeout_seconds)
    return channels


def build_services(config: Config, engine: Engine | None = None) -> Services:
    config.install_keys()
    use_pack(config.content_pack)
    engine = engine or make_engine(config.database_url)
    return Services(config, engine, make_session_factory(engine), build_channels(config))


def services(app: Flask | None = None) -> Services:
    return (app or current_app).extensions["madoguchi"]
