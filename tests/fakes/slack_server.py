"""A fake Slack Web API on loopback that records calls (like tests/fakes/line_server.py).

It answers the methods Madoguchi uses (auth.test, chat.postMessage, chat.update,
chat.delete, chat.postEphemeral) the way Slack does — {"ok": true, ...} with a fresh `ts`
for each posted message, message_not_found for a ts it does not hold — keeps the channel's
current messages (`visible`), and can be told to fail the next calls (ratelimited, 500).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.loopback import LoopbackServer

BOT_USER = "UBOT000001"


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    authorization: str | None
    at: float = field(default_factory=time.monotonic)


class FakeSlack(LoopbackServer):
    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self.messages: dict[str, dict[str, Any]] = {}  # ts -> what the channel shows now
        self._script: list[int | str] = []  # HTTP statuses, or Slack error codes
        self._ts = 1_700_000_000_000000
        self._lock = threading.Lock()
        self._serve(self._handler())

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/"

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self._script.clear()

    def fail_next(self, *statuses: int | str) -> None:
        """The next calls fail: an HTTP status (429, 500) or a Slack error code
        ("invalid_blocks"), which Slack answers with HTTP 200 and ok: false."""
        with self._lock:
            self._script.extend(statuses)

    def of(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    def visible(self) -> str:
        """Everything the channel shows now (texts and blocks), as one string."""
        return "\n".join(json.dumps(m, ensure_ascii=False) for m in self.messages.values())

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def _answer(self, method: str, args: dict[str, Any], auth: str | None) -> tuple[int, dict]:
        with self._lock:
            status = self._script.pop(0) if self._script else 200
            if isinstance(status, str):
                return 200, {"ok": False, "error": status}
            if status == 429:
                return 429, {"ok": False, "error": "ratelimited"}
            if status != 200:
                return status, {"ok": False, "error": "internal_error"}
            if method == "auth.test":
                return 200, {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT0001",
                             "team_id": "T0001", "user": "madoguchi"}
            self.calls.append(SlackCall(method, args, auth))
            if method == "chat.postMessage":
                ts = self._next_ts()
                self.messages[ts] = {k: args.get(k) for k in ("text", "blocks", "thread_ts")}
                return 200, {"ok": True, "channel": args.get("channel"), "ts": ts,
                             "message": {"text": args.get("text")}}
            if method in ("chat.update", "chat.delete"):
                ts = args.get("ts")
                if ts not in self.messages:
                    return 200, {"ok": False, "error": "message_not_found"}
                if method == "chat.delete":
                    del self.messages[ts]
                else:
                    self.messages[ts].update(text=args.get("text"), blocks=args.get("blocks"))
                return 200, {"ok": True, "channel": args.get("channel"), "ts": ts}
            if method == "chat.postEphemeral":
                return 200, {"ok": True, "message_ts": self._next_ts()}
        return 200, {"ok": False, "error": "unknown_method"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(raw).items()}
                    for key in ("blocks", "attachments"):
                        if isinstance(args.get(key), str):
                            args[key] = json.loads(args[key])
                method = self.path.rstrip("/").rsplit("/", 1)[-1]
                status, answer = fake._answer(method, args, self.headers.get("Authorization"))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
