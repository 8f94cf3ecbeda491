"""Rules of the conversation, run in milliseconds: a Turn built by hand with a stub Analysis
(no GiNZA, no HTTP), handled by the real handlers against a real (SQLite) database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import TOKYO
from handlers import handle
from handlers.content import live, load_pack
from handlers.inbound import FOLLOW, POSTBACK, TEXT, Inbound
from handlers.registry import FLOWS_REGISTRY, Registry
from handlers.replies import Reply
from handlers.turn import Turn
from nlu.analysis import Analysis, TopicHit
from storage import residents
from storage.crypto import resident_key
from storage.db import make_session_factory
from storage.models import Case, Message, Resident

# A Tuesday morning in June: staff are at work.
OFFICE_HOURS = datetime(2026, 6, 9, 10, 0, tzinfo=TOKYO)
USER = "U" + "a" * 32


def reading(text: str, *, intent: str = "consult", topics: tuple[str, ...] = (),
            urgent_kind: str | None = None, about: str = "self", **more: Any) -> Analysis:
    """What nlu would have read in ``text``, stated by the test instead of GiNZA."""
    urgent = urgent_kind is not None
    return Analysis(
        text=text, intent=intent, about=about, urgent=urgent, urgent_kind=urgent_kind,
        urgent_reason=f"{urgent_kind}: {text}" if urgent else None,
        risk="urgent" if urgent else "none",
        topics=[TopicHit(t, 0.9, [t]) for t in topics], **more,
    )


class Talk:
    """One resident's side of the conversation, handled turn by turn in one session."""

    def __init__(self, session: Session, now: datetime, flows: Registry = FLOWS_REGISTRY,
                 user: str = USER) -> None:
        self.session, self.now, self.flows, self.user = session, now, flows, user
        self.resident: Resident = residents.get_or_create(
            session, resident_key=resident_key("line", user), channel="line", user_id=user,
            now=now)

    def _turn(self, inbound: Inbound, analysis: Analysis | None) -> list[Reply]:
        message = Message(
            resident_id=self.resident.id, direction="in", sender="resident",
            kind=inbound.kind, text=inbound.text, masked_text=inbound.text,
            created_at=self.now)
        self.session.add(message)
        self.session.flush()
        self.last_message = message
        turn = Turn(self.session, self.resident, inbound, analysis, self.now, message)
        replies = handle(turn, self.flows)
        self.session.flush()
        return replies

    def says(self, text: str, **read_as: Any) -> list[Reply]:
        inbound = Inbound(kind=TEXT, channel="line", user_id=self.user, occurred_at=self.now,
                          text=text)
        return self._turn(inbound, reading(text, **read_as))

    def taps(self, data: str) -> list[Reply]:
        inbound = Inbound(kind=POSTBACK, channel="line", user_id=self.user,
                          occurred_at=self.now, postback_data=data)
        return self._turn(inbound, None)

    def follows(self) -> list[Reply]:
        inbound = Inbound(kind=FOLLOW, channel="line", user_id=self.user, occurred_at=self.now)
        return self._turn(inbound, None)

    def cases(self) -> list[Case]:
        return list(self.session.scalars(
            select(Case).where(Case.resident_id == self.resident.id).order_by(Case.id)))


def texts(replies: list[Reply]) -> list[str]:
    return [r.text for r in replies]


def copy(key: str, **values: object) -> str:
    return load_pack().text(key, **values)


@pytest.fixture
def session(db: Any) -> Iterator[Session]:
    # The content comes from the pack files: forget a version another test published.
    live.reset()
    factory = make_session_factory(db.engine)
    with factory() as session:
        yield session
        session.rollback()
    live.reset()


@pytest.fixture
def resident(session: Session) -> Talk:
    return Talk(session, OFFICE_HOURS)
