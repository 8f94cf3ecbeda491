"""Several workers on one database: every event once, each resident's replies in order."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from bot.worker import Worker
from handlers.replies import Reply
from storage.models import InboundEvent, Outbox
from tests.conftest import line_event, post_events


def echo(turn):
    return [Reply(f"{turn.inbound.text}")] if turn.inbound.text else []


def test_two_workers_share_the_load_without_doubling_or_reordering(client, svc, fake_line, db):
    residents = [f"U{n:032d}" for n in range(20)]
    for round_ in range(10):
        post_events(client, *[line_event("text", user=u, text=f"{u}:{round_}") for u in residents])
    workers = [
        Worker(svc.factory, svc.channels, handle=echo, worker_id=f"w{n}",
               reply_token_ttl=timedelta(0))  # every reply is a push, so each names its resident
        for n in range(2)
    ]
    rounds = 1 if db.backend == "sqlite" else 2  # SQLite runs one worker in production
    threads = [threading.Thread(target=w.drain) for w in workers[:rounds]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for w in workers:  # anything a thread left claimable
        w.drain()

    with svc.factory() as session:
        done = session.scalar(select(func.count()).where(InboundEvent.status == "done"))
        unsent = session.scalar(select(func.count()).where(Outbox.status != "sent"))
    assert done == 200 and unsent == 0
    assert len(fake_line.calls) == 200
    assert len({c.retry_key for c in fake_line.calls}) == 200
    for user in residents:
        received = [c.texts[0] for c in fake_line.calls if c.to == user]
        assert received == [f"{user}:{n}" for n in range(10)]
