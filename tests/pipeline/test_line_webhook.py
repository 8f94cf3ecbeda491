"""The LINE front door: verify, de-duplicate, store durably, answer 200 — nothing else."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.models import InboundEvent
from tests.conftest import line_event, post_events, sign


def stored(svc) -> int:
    with svc.factory() as session:
        return session.scalar(select(func.count()).select_from(InboundEvent))


def test_signed_event_is_stored_and_acknowledged_without_any_reply_yet(client, svc, fake_line):
    response = post_events(client, line_event("text", text="こんにちは"))
    assert response.status_code == 200
    assert stored(svc) == 1
    assert fake_line.calls == []  # no NLU, no outbound call inside the request


def test_forged_signature_is_rejected_and_nothing_is_stored(client, svc):
    response = post_events(client, line_event("text"), signature=sign(b"other body"))
    assert response.status_code == 400
    assert stored(svc) == 0


def test_missing_signature_is_rejected(client, svc):
    body = json.dumps({"events": [line_event("text")]}).encode()
    response = client.post("/callback/line", data=body, content_type="application/json")
    assert response.status_code == 400
    assert stored(svc) == 0


def test_signature_made_with_another_secret_is_rejected(client, svc):
    body = json.dumps({"events": [line_event("text")]}).encode()
    response = client.post("/callback/line", data=body,
                           headers={"X-Line-Signature": sign(body, "not-the-secret")})
    assert response.status_code == 400
    assert stored(svc) == 0


def test_body_over_one_mebibyte_is_refused_with_413(client, svc):
    body = b'{"events": [], "pad": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post("/callback/line", data=body, headers={"X-Line-Signature": sign(body)})
    assert response.status_code == 413
    assert stored(svc) == 0


def test_malformed_json_with_a_valid_signature_is_a_clear_400(client, svc):
    bodies = (b"{not json", b"[]", b'{"events": "nope"}', b"\xff\xfe not utf-8")
    for body in bodies:
        response = client.post("/callback/line", data=body,
                               headers={"X-Line-Signature": sign(body)})
        assert response.status_code == 400
    assert stored(svc) == 0


def test_line_verify_request_with_no_events_is_acknowledged(client, svc):
    assert post_events(client).status_code == 200
    assert stored(svc) == 0


def test_redelivered_event_is_acknowledged_and_stored_once(client, svc):
    event = line_event("text", event_id="01HREDELIVERED0000000000000")
    assert post_events(client, event).status_code == 200
    event["deliveryContext"]["isRedelivery"] = True
    assert post_events(client, event).status_code == 200
    assert post_events(client, event, event).status_code == 200
    assert stored(svc) == 1


def test_unknown_event_types_and_odd_shapes_are_stored_not_crashed_on(client, svc, worker):
    odd = [line_event("membered"), line_event("videoPlayComplete"), {"type": 3},
           {"type": "message", "webhookEventId": "x1"}]
    assert post_events(client, *odd).status_code == 200
    worker.drain()
    with svc.factory() as session:
        statuses = set(session.scalars(select(InboundEvent.status)))
    assert statuses == {"ignored"}


def test_stored_payload_is_encrypted_at_rest(client, db):
    post_events(client, line_event("text", user="U-secret-user", text="秘密の相談です"))
    with db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT payload FROM inbound_events").scalar_one()
    assert b"U-secret-user" not in bytes(raw)
    assert "秘密".encode() not in bytes(raw)


def test_database_outage_answers_503_so_line_redelivers(client, svc, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from storage import events

    def unavailable(*_args, **_kwargs):
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    monkeypatch.setattr(events, "store", unavailable)
    assert post_events(client, line_event("text")).status_code == 503
