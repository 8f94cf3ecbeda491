"""A resident talking to the bot through the LINE webhook, the real worker and real NLU."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from common.clock import TOKYO
from storage.models import Case, ConversationState, Resident
from tests.conftest import line_event, post_events

USER = "U00000000000000000000000000c0a01"
# A Tuesday morning in June: staff are at work (most tests are not about hours).
OFFICE_HOURS = datetime(2026, 6, 9, 10, 0, tzinfo=TOKYO)


class Chat:
    """One resident's side of the conversation; each call returns what the bot sent back."""

    def __init__(self, client: Any, worker: Any, fake_line: Any, svc: Any, user: str) -> None:
        self.client, self.worker, self.line, self.svc, self.user = (
            client, worker, fake_line, svc, user)

    def _send(self, event: dict[str, Any]) -> list[str]:
        before = len(self.line.calls)
        assert post_events(self.client, event).status_code == 200
        self.worker.drain()
        self.last_calls = self.line.calls[before:]
        return [t for c in self.last_calls if c.to in (None, self.user) for t in c.texts]

    def say(self, text: str) -> list[str]:
        return self._send(line_event("text", user=self.user, text=text))

    def tap(self, data: str) -> list[str]:
        return self._send(line_event("postback", user=self.user, data=data))

    def follow(self) -> list[str]:
        return self._send(line_event("follow", user=self.user))

    def sticker(self) -> list[str]:
        return self._send(line_event("sticker", user=self.user))

    def buttons(self) -> list[dict[str, Any]]:
        """The quick-reply actions under the last message the bot sent."""
        messages = [m for c in self.last_calls for m in c.messages]
        items = messages[-1].get("quickReply", {}).get("items", []) if messages else []
        return [i["action"] for i in items]

    def button_data(self) -> list[str]:
        return [a.get("data") or a.get("text") for a in self.buttons()]

    # -- what the database holds -------------------------------------------------

    def resident(self, session: Any) -> Resident:
        return session.scalars(select(Resident)).one()

    def cases(self) -> list[Case]:
        with self.svc.factory() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))

    def state(self) -> ConversationState | None:
        with self.svc.factory() as session:
            return session.scalars(select(ConversationState)).one_or_none()


@pytest.fixture
def chat(client: Any, worker: Any, fake_line: Any, svc: Any, clock: Any) -> Chat:
    clock.now = OFFICE_HOURS
    return Chat(client, worker, fake_line, svc, USER)


@pytest.fixture
def pack() -> Any:
    from handlers.content import load_pack

    return load_pack()


def joined(texts: list[str]) -> str:
    return "\n".join(texts)
