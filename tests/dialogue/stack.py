"""The running bot, as the dialogue scripts see it (used by the pytest module and the
docs generator bench/conversation_transcripts.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from storage import bookings
from storage.models import Case, Resident
from storage.models.booking import Slot
from tests.conftest import line_event, post_events


class LiveStack:
    def __init__(self, client: Any, worker: Any, line: Any, svc: Any, clock: Any,
                 user: str) -> None:
        self.client, self.worker, self.line, self.svc, self.clock, self.user = (
            client, worker, line, svc, clock, user)

    def send(self, kind: str, value: str) -> tuple[list[str], list[str]]:
        event = (line_event("postback", user=self.user, data=value) if kind == "tap"
                 else line_event("text", user=self.user, text=value))
        before = len(self.line.calls)
        assert post_events(self.client, event).status_code == 200
        self.worker.drain()
        calls = [c for c in self.line.calls[before:] if c.to in (None, self.user)]
        messages = [m for c in calls for m in c.messages]
        texts = [m.get("text", "") for m in messages]
        items = messages[-1].get("quickReply", {}).get("items", []) if messages else []
        return texts, [i["action"]["label"] for i in items]

    def cases(self) -> list[Case]:
        with self.svc.factory() as session:
            return list(session.scalars(select(Case).order_by(Case.id)))

    def claim_case(self) -> None:
        with self.svc.factory() as session, session.begin():
            case = session.scalars(select(Case).order_by(Case.id.desc())).first()
            assert case is not None, "a script claims a case before one was opened"
            case.status = "claimed"

    def give_booking(self) -> None:
        """The resident (created by a first greeting) holds a booking in three days."""
        self.send("say", "こんにちは")
        with self.svc.factory() as session, session.begin():
            resident = session.scalars(select(Resident)).one()
            start = (self.clock.now + timedelta(days=3)).replace(hour=10, minute=0)
            slot = Slot(window_id="east_center", starts_at=start,
                        ends_at=start + timedelta(minutes=45), mode="visit_office",
                        capacity=1, booked=0, status="open", created_at=self.clock.now)
            session.add(slot)
            session.flush()
            bookings.book(session, slot_id=slot.id, resident=resident, now=self.clock.now)
