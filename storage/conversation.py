"""Conversation state per resident: which flow, which step, and when it lapses."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from storage.models import ConversationState

# A half-finished flow (a booking, a deletion) lapses after this much silence.
FLOW_TIMEOUT = timedelta(minutes=30)


def load(session: Session, resident_id: int, now: datetime) -> ConversationState:
    state = session.get(ConversationState, resident_id)
    if state is None:
        state = ConversationState(resident_id=resident_id, data={}, not_understood=0,
                                  updated_at=now)
        session.add(state)
        session.flush()
    elif state.flow and state.expires_at and state.expires_at <= now:
        clear(state, now)
    return state


def enter(state: ConversationState, flow: str, step: str, now: datetime,
          data: dict[str, Any] | None = None, timeout: timedelta = FLOW_TIMEOUT) -> None:
    state.flow, state.step = flow, step
    state.data = dict(data or {})
    state.expires_at = now + timeout
    state.updated_at = now


def clear(state: ConversationState, now: datetime) -> None:
    state.flow = state.step = None
    state.data = {}
    state.expires_at = None
    state.updated_at = now
