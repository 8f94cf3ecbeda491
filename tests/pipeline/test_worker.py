"""The worker: every stored event is answered once, in order, even across crashes."""

from __future__ import annotations

import contextlib

from sqlalchemy import func, select

from bot.worker import Worker
from handlers.replies import Reply
from storage.models import InboundEvent, Message, Outbox, Resident
from tests.conftest import line_event, post_events

USER = "U1111111111111111111111111111111"


def echo(turn):
    """A handler that makes each reply traceable to its message (the pipeline under test)."""
    return [Reply(f"echo:{turn.inbound.text}")] if turn.inbound.text else []


def test_text_message_is_answered_with_its_reply_token(client, worker, fake_line):
    event = line_event("text", user=USER, text="こんにちは", reply_token="token-1")
    post_events(client, event)
    worker.drain()
    assert len(fake_line.calls) == 1
    call = fake_line.calls[0]
    assert call.kind == "reply" and call.reply_token == "token-1"
    assert call.authorization == "Bearer test-access-token"


def test_duplicate_webhook_event_id_gets_exactly_one_reply(client, worker, fake_line):
    event = line_event("text", user=USER, event_id="01HDUPLICATE000000000000000")
    post_events(client, event)
    post_events(client, event)
    worker.drain()
    post_events(client, event)
    worker.drain()
    assert len(fake_line.calls) == 1


def test_follow_gets_a_welcome_with_the_main_paths(client, worker, fake_line):
    post_events(client, line_event("follow", user=USER))
    worker.drain()
    [call] = fake_line.calls
    labels = [i["action"]["label"] for i in call.messages[-1]["quickReply"]["items"]]
    assert {"相談したい", "人と話したい"} <= set(labels)


def test_unfollow_marks_the_resident_inactive_and_sends_nothing(client, worker, fake_line, svc):
    post_events(client, line_event("follow", user=USER))
    worker.drain()
    fake_line.reset()
    post_events(client, line_event("unfollow", user=USER))
    worker.drain()
    assert fake_line.calls == []
    with svc.factory() as session:
        assert session.scalars(select(Resident.active)).one() is False


def test_sticker_and_image_get_a_polite_request_to_write_in_text(client, worker, fake_line):
    post_events(client, line_event("sticker", user=USER))
    post_events(client, line_event("image", user=USER))
    worker.drain()
    texts = fake_line.all_texts()
    assert len(texts) >= 2 and all("文字" in t for t in texts)


def test_stale_reply_token_falls_back_to_push_with_a_retry_key(client, svc, fake_line, clock):
    post_events(client, line_event("text", user=USER))
    clock.advance(seconds=120)  # the worker was busy or down: the token is too old
    Worker(svc.factory, svc.channels, clock=clock).drain()
    [call] = fake_line.calls
    assert call.kind == "push" and call.to == USER
    assert call.retry_key and len(call.retry_key) == 36


def test_refused_reply_token_falls_back_to_push(client, worker, fake_line):
    fake_line.expire_reply_tokens()
    post_events(client, line_event("text", user=USER))
    worker.drain()
    [call] = fake_line.calls
    assert call.kind == "push" and call.retry_key


def test_line_500_then_200_delivers_exactly_one_message(client, worker, fake_line, clock):
    fake_line.fail_next(500)
    post_events(client, line_event("text", user=USER))
    worker.drain()
    assert fake_line.calls == []
    clock.advance(seconds=5)  # past the backoff
    worker.deliver()
    assert len(fake_line.calls) == 1
    clock.advance(seconds=600)
    worker.deliver()
    assert len(fake_line.calls) == 1


def test_line_429_is_retried_after_backoff(client, worker, fake_line, clock, svc):
    fake_line.fail_next(429, 429)
    post_events(client, line_event("text", user=USER))
    worker.drain()
    for _ in range(3):
        clock.advance(seconds=10)
        worker.deliver()
    assert len(fake_line.calls) == 1
    with svc.factory() as session:
        send = session.scalars(select(Outbox)).one()
    assert send.status == "sent" and send.attempts == 3


def test_line_4xx_is_recorded_as_failed_with_the_reason(client, worker, fake_line, svc):
    fake_line.expire_reply_tokens()
    fake_line.fail_next(200, 403)  # the reply is refused, then the push is forbidden
    post_events(client, line_event("text", user=USER))
    worker.drain()
    with svc.factory() as session:
        send = session.scalars(select(Outbox)).one()
    assert send.status == "failed" and "403" in send.last_error


def test_lost_push_response_is_resent_with_the_same_retry_key_and_delivered_once(
    client, worker, fake_line, clock
):
    fake_line.expire_reply_tokens()
    post_events(client, line_event("text", user=USER))
    worker.drain()
    [first] = fake_line.calls
    # LINE accepted it, but our record of that was lost: resend with the same key.
    with worker.factory() as session, session.begin():
        send = session.scalars(select(Outbox)).one()
        send.status, send.attempts = "pending", 1
    worker.deliver()
    assert len(fake_line.calls) == 1 and fake_line.attempts >= 3
    assert first.retry_key


def test_each_residents_events_are_answered_in_order(client, worker, fake_line, svc):
    users = [f"U{i:032d}" for i in range(3)]
    for n in range(4):
        post_events(client, *[line_event("text", user=u, text=f"{n}") for u in users])
    worker.drain()
    with svc.factory() as session:
        for resident in session.scalars(select(Resident)):
            inbound = session.scalars(
                select(Message.text).where(Message.resident_id == resident.id,
                                           Message.direction == "in").order_by(Message.id)
            ).all()
            assert inbound == ["0", "1", "2", "3"]
    assert len(fake_line.calls) == 12


def test_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(client, svc, fake_line, clock):
    for n in range(5):
        post_events(client, line_event("text", user=f"U{n:032d}", text=f"message {n}"))

    calls = {"n": 0}

    def dies_on_third(turn):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("killed")  # the process dies mid-batch
        return echo(turn)

    crashing = Worker(svc.factory, svc.channels, clock=clock, handle=dies_on_third,
                      worker_id="doomed")
    with contextlib.suppress(SystemExit):
        crashing.drain_once()
    clock.advance(seconds=300)  # the dead worker's leases run out
    Worker(svc.factory, svc.channels, clock=clock, handle=echo, worker_id="restarted").drain()
    with svc.factory() as session:
        statuses = session.scalars(select(InboundEvent.status)).all()
        inbound = session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "in"))
    assert statuses == ["done"] * 5
    assert inbound == 5
    assert len(fake_line.calls) == 5
    assert sorted(c.texts[0] for c in fake_line.calls) == [f"echo:message {n}" for n in range(5)]


def test_an_event_that_keeps_failing_is_parked_and_does_not_block_the_resident(
    client, svc, fake_line, clock
):
    post_events(client, line_event("text", user=USER, text="first"))
    post_events(client, line_event("text", user=USER, text="second"))

    def fails_on_first(turn):
        if turn.inbound.text == "first":
            raise RuntimeError("bug")
        import handlers

        return handlers.handle(turn)

    w = Worker(svc.factory, svc.channels, clock=clock, handle=fails_on_first)
    for _ in range(8):
        w.drain()
        clock.advance(seconds=60)
    with svc.factory() as session:
        statuses = session.scalars(select(InboundEvent.status).order_by(InboundEvent.id)).all()
        error = session.scalars(select(InboundEvent.error).order_by(InboundEvent.id)).first()
    assert statuses == ["failed", "done"]
    assert "RuntimeError" in error and "first" not in error


def test_odd_input_gets_a_graceful_reply(client, worker, fake_line):
    texts = ["😀😀😀", "a" * 10_000, "\u200b\u202e\x00\x07制御文字", "ｶﾀｶﾅ ＡＢＣ １２３", "https://example.com"]
    for n, text in enumerate(texts):
        post_events(client, line_event("text", user=f"U{n:032d}", text=text))
    worker.drain()
    assert len(fake_line.calls) == len(texts)
    assert all(len(t) <= 5000 for t in fake_line.all_texts())


def test_logs_never_contain_user_ids_or_message_text(client, worker, caplog):
    caplog.set_level("DEBUG")
    post_events(client, line_event("text", user="U-private-user-id", text="借金がつらいです"))
    worker.drain()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "U-private-user-id" not in logged
    assert "借金" not in logged


def test_history_stores_the_resident_under_a_pseudonym(client, worker, svc, db):
    post_events(client, line_event("text", user="U-real-line-id", text="相談です"))
    worker.drain()
    with svc.factory() as session:
        resident = session.scalars(select(Resident)).one()
    assert resident.alias.startswith("R-") and "U-real" not in resident.resident_key
    with db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT channel_user_id FROM residents").scalar_one()
    assert b"U-real-line-id" not in bytes(raw)


def test_a_reply_interrupted_by_a_crash_is_not_sent_twice(client, svc, fake_line, clock):
    post_events(client, line_event("text", user=USER, text="hello", reply_token="tok-crash"))
    with svc.factory() as session, session.begin():
        from storage import events

        events.claim(session, "w", clock(), 10)
    w = Worker(svc.factory, svc.channels, clock=clock, handle=echo, worker_id="w")
    from storage.models import InboundEvent as Event

    with svc.factory() as session:
        event_id = session.scalars(select(Event.id)).one()
    w.process(event_id)

    real_send = svc.channels["line"].send

    def send_then_die(delivery):
        real_send(delivery)  # LINE accepts the reply…
        raise SystemExit("killed before recording it")

    svc.channels["line"].send = send_then_die
    try:
        w.deliver()
    except SystemExit:
        pass
    finally:
        svc.channels["line"].send = real_send
    clock.advance(seconds=31)  # the dead sender's lease runs out; the token is still fresh
    Worker(svc.factory, svc.channels, clock=clock, worker_id="restarted").deliver()
    assert [c.kind for c in fake_line.calls] == ["reply"]
    with svc.factory() as session:
        assert session.scalars(select(Outbox.status)).one() == "sent"


def test_a_follow_without_optional_fields_still_gets_the_welcome(client, worker, fake_line):
    event = line_event("follow", user=USER)
    del event["follow"]
    post_events(client, event)
    worker.drain()
    assert len(fake_line.calls) == 1


def test_simulator_resident_is_welcomed_and_answered(client, worker):
    follow = client.post("/simulator/api/events", json={"sid": "t1", "type": "follow"})
    assert follow.status_code == 200
    said_hello = {"sid": "t1", "type": "message", "text": "こんにちは"}
    client.post("/simulator/api/events", json=said_hello)
    worker.drain()
    shown = client.get("/simulator/api/messages?sid=t1").get_json()["messages"]
    said = [i for i, m in enumerate(shown) if m["direction"] == "in" and m["text"] == "こんにちは"]
    assert said, shown
    assert any(m["direction"] == "out" for m in shown[: said[0]])  # the welcome came first
    assert shown[-1]["direction"] == "out"  # and the message was answered


def test_a_batch_of_messages_is_read_in_one_batched_pass(client, svc, fake_line, clock):
    import nlu

    batches: list[int] = []

    def batched(texts, now):
        batches.append(len(texts))
        return nlu.analyze_many(texts, now=now)

    def one_by_one(text, now):
        raise AssertionError("the batch already read this message")

    for n in range(4):
        post_events(client, line_event("text", user=f"U{n:032d}", text=f"母の介護が心配です {n}"))
    Worker(svc.factory, svc.channels, clock=clock, analyze=one_by_one,
           analyze_batch=batched).drain()
    assert batches == [4]
    assert len(fake_line.calls) == 4
