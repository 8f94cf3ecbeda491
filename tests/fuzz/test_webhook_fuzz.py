"""Fuzzing the LINE webhook: whatever arrives, no 500 and no exception; unsigned input is
never stored; signed JSON of any shape is a 200 or a clear 400, and the worker survives it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.channels.line_events import parse_event
from storage.models import InboundEvent
from tests.conftest import CHANNEL_SECRET, line_event, sign

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Latin-1 only: HTTP header values are bytes; the test client cannot send anything else.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=120)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20,
)
USER = "U" + "f" * 32


def event_like() -> st.SearchStrategy[dict[str, Any]]:
    """Real event shapes with fields replaced, removed or retyped at random."""
    kinds = st.sampled_from(["text", "sticker", "image", "location", "postback", "follow",
                             "unfollow", "join", "memberJoined", "videoPlayComplete"])
    return st.builds(_mutate, kinds, st.text(max_size=200), st.dictionaries(
        st.sampled_from(["type", "source", "message", "postback", "replyToken", "timestamp",
                         "webhookEventId", "mode", "deliveryContext", "follow"]),
        json_values, max_size=3), st.lists(st.sampled_from(
            ["type", "source", "message", "replyToken", "webhookEventId", "timestamp"]),
            max_size=2))


def _mutate(kind: str, text: str, replace: dict[str, Any], drop: list[str]) -> dict[str, Any]:
    event = line_event(kind, user=USER, text=text)
    event.update(replace)
    for key in drop:
        event.pop(key, None)
    return event


def stored(svc) -> int:
    with svc.factory() as session:
        return session.scalar(select(func.count()).select_from(InboundEvent))


@FUZZ
@given(body=st.binary(max_size=2048), signature=header_text, content_type=header_text)
def test_unsigned_bytes_of_any_kind_are_refused_and_never_stored(client, svc, body,
                                                                 signature, content_type):
    response = client.post("/callback/line", data=body,
                           headers={"X-Line-Signature": signature,
                                    "Content-Type": content_type})
    assert response.status_code == 400
    assert stored(svc) == 0


@FUZZ
@given(document=json_values)
def test_json_signed_with_another_secret_is_refused_and_never_stored(client, svc, document):
    body = json.dumps({"events": [document]}, ensure_ascii=False).encode()
    response = client.post("/callback/line", data=body,
                           headers={"X-Line-Signature": sign(body, CHANNEL_SECRET + "x")})
    assert response.status_code == 400
    assert stored(svc) == 0


@FUZZ
@given(document=json_values)
def test_signed_json_of_any_shape_is_200_or_400_never_500(client, document):
    body = json.dumps(document, ensure_ascii=False).encode()
    response = client.post("/callback/line", data=body, headers={"X-Line-Signature": sign(body)})
    expected = 200 if isinstance(document, dict) and isinstance(document.get("events"),
                                                                list) else 400
    assert response.status_code == expected


@FUZZ
@given(body=st.binary(max_size=512))
def test_signed_bytes_that_are_not_utf8_json_are_a_clear_400(client, svc, body):
    response = client.post("/callback/line", data=body, headers={"X-Line-Signature": sign(body)})
    try:
        document = json.loads(body.decode("utf-8"))
        acceptable = {200} if isinstance(document, dict) and isinstance(
            document.get("events"), list) else {400}
    except (UnicodeDecodeError, ValueError):
        acceptable = {400}
    assert response.status_code in acceptable


@FUZZ
@given(events=st.lists(event_like(), min_size=1, max_size=3))
def test_signed_odd_events_are_stored_and_the_worker_gets_through_them(client, svc, worker,
                                                                       events):
    body = json.dumps({"destination": "U0", "events": events}, ensure_ascii=False).encode()
    response = client.post("/callback/line", data=body, headers={"X-Line-Signature": sign(body)})
    assert response.status_code == 200
    worker.drain()
    with svc.factory() as session:
        errors = session.scalars(select(InboundEvent.error).where(
            InboundEvent.error.is_not(None))).all()
    assert errors == []  # odd shapes are ignored or answered, never a crash


@FUZZ
@given(payload=st.dictionaries(st.text(max_size=12), json_values, max_size=6) | event_like())
def test_parsing_a_stored_event_of_any_shape_never_raises(payload):
    inbound = parse_event(payload, "line", datetime.now(UTC))
    assert inbound.kind
