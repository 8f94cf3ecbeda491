"""LINE's API failing for a while: back off, then deliver every message exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.worker import Worker
from handlers.replies import Reply
from storage.models import Outbox
from tests.conftest import line_event, post_events

USERS = [f"U{n:032d}" for n in range(5)]


def echo(turn):
    return [Reply(f"echo:{turn.inbound.text}")] if turn.inbound.text else []


def ride_out_outage(fake_line, worker, clock, minutes: int = 1) -> None:
    for _ in range(minutes * 6):  # the worker keeps trying every 10 s of its clock
        clock.advance(seconds=10)
        worker.deliver()
    fake_line.outage = None
    clock.advance(seconds=600)  # longer than any backoff
    worker.deliver()


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_minute_of_errors_then_every_message_is_delivered_once(
    client, svc, fake_line, clock, status
):
    fake_line.outage = (status, 0.0)
    for user in USERS:
        post_events(client, line_event("text", user=user, text=user))
    worker = Worker(svc.factory, svc.channels, clock=clock, handle=echo)
    worker.drain()
    assert fake_line.calls == []
    ride_out_outage(fake_line, worker, clock)
    assert sorted(t for c in fake_line.calls for t in c.texts) == sorted(f"echo:{u}" for u in USERS)
    with svc.factory() as session:
        assert set(session.scalars(select(Outbox.status))) == {"sent"}


def test_timeouts_are_retried_with_the_same_retry_key_and_not_doubled(
    client, svc, fake_line, clock, monkeypatch
):
    monkeypatch.setattr(svc.channels["line"], "_timeout", (1.0, 0.3))
    fake_line.expire_reply_tokens()  # pushes only: each carries X-Line-Retry-Key
    fake_line.outage = (0, 0.6)  # LINE accepts, but answers after we stopped waiting
    post_events(client, line_event("text", user=USERS[0], text="timeout"))
    worker = Worker(svc.factory, svc.channels, clock=clock, handle=echo)
    worker.drain()
    with svc.factory() as session:
        assert session.scalars(select(Outbox.status)).one() == "pending"  # unsure: retry
    ride_out_outage(fake_line, worker, clock)
    assert [c.texts for c in fake_line.calls] == [["echo:timeout"]]
    with svc.factory() as session:
        assert session.scalars(select(Outbox.status)).one() == "sent"


def test_retries_back_off_exponentially_while_line_keeps_failing(client, svc, fake_line, clock):
    fake_line.outage = (500, 0.0)
    post_events(client, line_event("text", user=USERS[0], text="x"))
    worker = Worker(svc.factory, svc.channels, clock=clock, handle=echo)
    worker.drain()
    waits = []
    for _ in range(5):
        with svc.factory() as session:
            send = session.scalars(select(Outbox)).one()
        waits.append((send.next_attempt_at - clock.now).total_seconds())
        clock.now = send.next_attempt_at
        worker.deliver()
    assert waits == sorted(waits) and waits[-1] >= 4 * waits[0]
