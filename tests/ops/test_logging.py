"""Structured JSON logs with request ids, and never a LINE user id or a resident's words."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid

import pytest

from bot.observability import JsonFormatter, redact
from bot.worker import Worker
from handlers.replies import Reply
from nlu.analysis import Analysis
from tests.conftest import line_event, post_events, sign


def test_a_request_id_from_the_proxy_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-ID": "nginx-4f2a.7:1"})
    assert response.headers["X-Request-ID"] == "nginx-4f2a.7:1"


def test_without_one_each_request_gets_a_fresh_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


@pytest.mark.parametrize("unsafe", ["has space", "x" * 129, "semi;colon", "quote\"d"])
def test_an_id_unsafe_for_logs_and_headers_is_replaced(client, unsafe):
    echoed = client.get("/healthz", headers={"X-Request-ID": unsafe}).headers["X-Request-ID"]
    assert echoed != unsafe and re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_log_lines_are_json_and_carry_the_request_id(client, json_logs):
    body = json.dumps({"events": [line_event("text")]}).encode()
    response = client.post("/callback/line", data=body,
                           headers={"X-Line-Signature": sign(body, "wrong"),
                                    "X-Request-ID": "req-123"})
    assert response.status_code == 400
    rejected = [line for line in json_logs.lines() if "bad signature" in line["message"]]
    assert rejected and rejected[0]["request_id"] == "req-123"
    assert rejected[0]["level"] == "WARNING" and rejected[0]["logger"] == "bot.webhook_line"
    assert {"time", "process", "thread"} <= set(rejected[0])


def test_lines_outside_a_request_carry_no_request_id(json_logs):
    logging.getLogger("madoguchi.test").info("scheduler tick %d", 3)
    (line,) = [ln for ln in json_logs.lines() if ln["logger"] == "madoguchi.test"]
    assert line["message"] == "scheduler tick 3" and "request_id" not in line


def test_the_formatter_masks_line_ids_and_drops_exception_messages():
    user = "U" + uuid.uuid4().hex
    try:
        raise ValueError(f"could not parse 秘密の話 from {user}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed for %s", (user,),
                                   exc_info=sys.exc_info())
    line = JsonFormatter().format(record)
    assert user not in line and "秘密の話" not in line
    document = json.loads(line)
    assert document["message"] == "failed for [line-id]"
    assert document["exception"] == "ValueError"
    assert document["traceback"][-1].startswith("test_logging.py:")
    assert redact("group C" + "0" * 32 + " room R" + "f" * 32) == "group [line-id] room [line-id]"


# -- the privacy sweep: drive everything with distinctive ids and words ----------------

SECRET_WORDS = ("ミナトヤマ", "ZQXW-PRIVATE", "090-4417-2298")


def distinctive_users(n: int) -> list[str]:
    return ["U" + uuid.uuid4().hex for _ in range(n)]


def assert_nothing_private(logs, users: list[str], texts: list[str]) -> None:
    captured = logs.text
    assert captured.strip(), "expected the pipeline to log something"
    for line in logs.lines():  # every line is one JSON document
        assert isinstance(line, dict)
    for user in users:
        assert user not in captured
        assert user[1:] not in captured  # not even without its prefix
    for text in texts:
        assert text not in captured
    for word in SECRET_WORDS:
        assert word not in captured


def crashing_handler(turn) -> list[Reply]:
    # A handler bug whose exception quotes the resident: the worker must not log it.
    raise ValueError(f"cannot handle {turn.inbound.text!r} from {turn.inbound.user_id}")


def test_webhook_and_worker_never_log_user_ids_or_message_text(client, svc, clock, fake_line,
                                                               json_logs):
    users = distinctive_users(3)
    texts = [f"{SECRET_WORDS[0]}に住んでいます。{SECRET_WORDS[1]} 電話は{SECRET_WORDS[2]}です",
             f"{SECRET_WORDS[1]}のことで困っています"]
    quiet = Worker(svc.factory, svc.channels, clock=clock,
                   analyze=lambda text, now: Analysis(text=text),
                   handle=lambda turn: [Reply(text="受け付けました")])
    post_events(client, line_event("follow", user=users[0]),
                line_event("text", user=users[0], text=texts[0]),
                line_event("postback", user=users[1], data=f"booking:{SECRET_WORDS[1]}"))
    fake_line.fail_next(500, 403)  # a retried send, then a refused one: warnings are logged
    quiet.drain()
    clock.advance(minutes=10)
    quiet.deliver()
    crashing = Worker(svc.factory, svc.channels, clock=clock,
                      analyze=lambda text, now: Analysis(text=text), handle=crashing_handler)
    post_events(client, line_event("text", user=users[2], text=texts[1]))
    crashing.drain()
    body = json.dumps({"events": [line_event("text", user=users[2], text=texts[1])]}).encode()
    client.post("/callback/line", data=body, headers={"X-Line-Signature": "forged"})
    assert_nothing_private(json_logs, users, texts)
    messages = " ".join(line["message"] for line in json_logs.lines())
    assert "failed: ValueError" in messages  # the failure itself is logged, by type


def test_the_real_conversation_logs_nothing_private(say, fake_line, json_logs):
    pytest.importorskip("nlu", reason="nlu.analyze not installed yet")
    users = distinctive_users(2)
    texts = [f"{SECRET_WORDS[0]}の母の介護のことで相談したいです。電話は{SECRET_WORDS[2]}",
             "もう死にたいです", f"人と話したい {SECRET_WORDS[1]}"]
    for text in texts[:2]:
        say(text, user=users[0])
    say(texts[2], user=users[1])
    assert fake_line.calls, "the bot should have answered"
    assert_nothing_private(json_logs, users, texts)
