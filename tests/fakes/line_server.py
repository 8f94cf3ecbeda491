"""A fake LINE Messaging API on loopback that records what the bot sends.

It behaves like LINE where it matters to us: a reply token works once and only
while fresh; a push with an X-Line-Retry-Key already accepted answers 409; and
scripted failures (429, 500, slow answers) can be queued for the next calls.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.loopback import LoopbackServer


@dataclass
class Call:
    kind: str  # reply | push
    to: str | None
    reply_token: str | None
    retry_key: str | None
    messages: list[dict[str, Any]]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)

    @property
    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.messages]


class FakeLine(LoopbackServer):
    def __init__(self) -> None:
        self.calls: list[Call] = []  # accepted sends only
        self.attempts = 0
        self.valid_reply_tokens: set[str] | None = None  # None: any unused token works
        self._used_tokens: set[str] = set()
        self._retry_keys: set[str] = set()
        self._script: list[tuple[int, float]] = []  # (status, delay) for the next calls
        self.outage: tuple[int, float] | None = None  # every call fails so, until cleared
        # The month's push quota (None: unlimited) and what has been used of it; pushes
        # past it are refused with LINE's monthly-limit 429. Replies do not count.
        self.push_limit: int | None = None
        self.push_used = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._inflight = 0
        self._serve(self._handler())

    @property
    def url(self) -> str:
        return self.base_url

    def fail_next(self, *statuses: int, delay: float = 0.0) -> None:
        with self._lock:
            self._script.extend((s, delay) for s in statuses)

    def expire_reply_tokens(self) -> None:
        self.valid_reply_tokens = set()

    def reset(self) -> None:
        # A slow answer still in flight (timeout tests) must not land in the next test.
        with self._idle:
            self._idle.wait_for(lambda: self._inflight == 0, timeout=10)
        with self._lock:
            self.calls.clear()
            self._used_tokens.clear()
            self._retry_keys.clear()
            self._script.clear()
            self.attempts = 0
            self.outage = None
            self.valid_reply_tokens = None
            self.push_limit, self.push_used = None, 0

    def texts_to(self, user_id: str) -> list[str]:
        """Texts pushed to a user, plus replies (which carry no user id)."""
        return [t for c in self.calls if c.to in (user_id, None) for t in c.texts]

    def all_texts(self) -> list[str]:
        return [t for c in self.calls for t in c.texts]

    # -- HTTP ---------------------------------------------------------------

    def _answer(self, path: str, headers: Any, body: dict[str, Any]) -> tuple[int, dict]:
        with self._idle:
            self._inflight += 1
        try:
            return self._answer_now(path, headers, body)
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def _answer_now(self, path: str, headers: Any, body: dict[str, Any]) -> tuple[int, dict]:
        with self._lock:
            self.attempts += 1
            if self.outage is not None:
                status, delay = self.outage
            else:
                status, delay = self._script.pop(0) if self._script else (200, 0.0)
        if delay:
            time.sleep(delay)
        if status == 0:  # a slow answer that still goes through (the client has given up)
            status = 200
        if status != 200:
            return status, {"message": "scripted failure"}
        with self._lock:
            if path.endswith("/message/reply"):
                token = body.get("replyToken")
                valid = self.valid_reply_tokens
                if token in self._used_tokens or (valid is not None and token not in valid):
                    return 400, {"message": "Invalid reply token"}
                self._used_tokens.add(token)
                self.calls.append(Call("reply", None, token, None, body.get("messages", []),
                                       headers.get("Authorization")))
                return 200, _sent(body)
            if path.endswith("/message/push"):
                key = headers.get("X-Line-Retry-Key")
                if key and key in self._retry_keys:
                    return 409, {"message": "The retry key is already accepted"}
                sent = len(body.get("messages", []))
                if self.push_limit is not None and self.push_used + sent > self.push_limit:
                    return 429, {"message": "You have reached your monthly limit."}
                self.push_used += sent
                if key:
                    self._retry_keys.add(key)
                self.calls.append(Call("push", body.get("to"), None, key,
                                       body.get("messages", []), headers.get("Authorization")))
                return 200, _sent(body)
        return 404, {"message": "not found"}

    def _quota(self, path: str) -> tuple[int, dict]:
        with self._lock:
            if path.endswith("/message/quota"):
                if self.push_limit is None:
                    return 200, {"type": "none"}
                return 200, {"type": "limited", "value": self.push_limit}
            if path.endswith("/message/quota/consumption"):
                return 200, {"totalUsage": self.push_used}
        return 404, {"message": "not found"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                status, answer = fake._quota(self.path)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                status, answer = fake._answer(self.path, self.headers, body)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout tests); LINE would not care

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _sent(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages", [])
    return {"sentMessages": [{"id": str(time.time_ns() + i), "quoteToken": "q"}
                             for i, _ in enumerate(messages)]}
