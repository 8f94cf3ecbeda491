"""A fake of LINE's rich-menu and webhook-settings API on loopback (two hosts, like LINE:
api.line.me for the menu objects, api-data.line.me for images), after tests/fakes/line_server.py.

It checks what LINE checks: the bearer token, the menu's size and areas, the image's type,
size and dimensions, that an image is uploaded once and before the menu becomes the default.
"""

from __future__ import annotations

import json
import re
import struct
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIZES = {(2500, 1686), (2500, 843), (1200, 810), (1200, 405), (800, 540), (800, 270)}
MAX_IMAGE = 1024 * 1024


@dataclass
class Menu:
    id: str
    body: dict[str, Any]
    image: bytes | None = None
    image_type: str | None = None
    image_host: str | None = None


@dataclass
class State:
    token: str
    menus: dict[str, Menu] = field(default_factory=dict)
    default: str | None = None
    webhook: str | None = None
    fail: dict[str, int] = field(default_factory=dict)  # path kind -> status, once
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # host, method, path


class FakeLineAdmin:
    def __init__(self, token: str) -> None:
        self.state = State(token)
        self._lock = threading.Lock()
        self._servers = {name: ThreadingHTTPServer(("127.0.0.1", 0), self._handler(name))
                         for name in ("api", "data")}

    def url(self, host: str) -> str:
        address = self._servers[host].server_address
        return f"http://{address[0]}:{address[1]}"

    @property
    def api_url(self) -> str:
        return self.url("api")

    @property
    def data_url(self) -> str:
        return self.url("data")

    def start(self) -> FakeLineAdmin:
        for server in self._servers.values():
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    def fail_next(self, kind: str, status: int) -> None:
        """kind: list | create | content | default | delete | webhook."""
        self.state.fail[kind] = status

    # -- routing --------------------------------------------------------------

    def answer(self, host: str, method: str, path: str, headers: Any,
               raw: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.state.requests.append((host, method, path))
            if headers.get("Authorization") != f"Bearer {self.state.token}":
                return 401, {"message": "Authentication failed"}
            route = self._route(host, method, path)
            if route is None:
                return 404, {"message": "Not found"}
            kind, handler, menu_id = route
            if kind in self.state.fail:
                return self.state.fail.pop(kind), {"message": "scripted failure"}
            return handler(menu_id, headers, raw)

    def _route(self, host: str, method: str, path: str) -> tuple[str, Any, str | None] | None:
        if host == "data":
            match = re.fullmatch(r"/v2/bot/richmenu/([\w-]+)/content", path)
            if method == "POST" and match:
                return "content", self._content, match.group(1)
            return None
        if method == "GET" and path == "/v2/bot/richmenu/list":
            return "list", self._list, None
        if method == "POST" and path == "/v2/bot/richmenu":
            return "create", self._create, None
        match = re.fullmatch(r"/v2/bot/user/all/richmenu/([\w-]+)", path)
        if method == "POST" and match:
            return "default", self._default, match.group(1)
        match = re.fullmatch(r"/v2/bot/richmenu/([\w-]+)", path)
        if method == "DELETE" and match:
            return "delete", self._delete, match.group(1)
        if method == "PUT" and path == "/v2/bot/channel/webhook/endpoint":
            return "webhook", self._webhook, None
        return None

    # -- endpoints ------------------------------------------------------------

    def _list(self, _id: Any, _headers: Any, _raw: bytes) -> tuple[int, dict[str, Any]]:
        return 200, {"richmenus": [{"richMenuId": m.id, **m.body}
                                   for m in self.state.menus.values()]}

    def _create(self, _id: Any, _headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        body = json.loads(raw or b"{}")
        problem = menu_problem(body)
        if problem:
            return 400, {"message": problem}
        menu = Menu("richmenu-" + uuid.uuid4().hex, body)
        self.state.menus[menu.id] = menu
        return 200, {"richMenuId": menu.id}

    def _content(self, menu_id: str, headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        menu = self.state.menus.get(menu_id)
        if menu is None:
            return 404, {"message": "Not found"}
        if menu.image is not None:
            return 400, {"message": "An image has already been uploaded to the richmenu"}
        kind = headers.get("Content-Type")
        if kind not in ("image/png", "image/jpeg") or len(raw) > MAX_IMAGE:
            return 400, {"message": "Invalid image"}
        if kind == "image/png":
            width, height = struct.unpack(">II", raw[16:24])
            size = menu.body["size"]
            if raw[:8] != b"\x89PNG\r\n\x1a\n" or (width, height) != (size["width"],
                                                                    size["height"]):
                return 400, {"message": "Image size does not match the rich menu size"}
        menu.image, menu.image_type, menu.image_host = raw, kind, "data"
        return 200, {}

    def _default(self, menu_id: str, _headers: Any, _raw: bytes) -> tuple[int, dict[str, Any]]:
        menu = self.state.menus.get(menu_id)
        if menu is None:
            return 404, {"message": "Not found"}
        if menu.image is None:
            return 400, {"message": "must upload richmenu image before applying it to user"}
        self.state.default = menu_id
        return 200, {}

    def _delete(self, menu_id: str, _headers: Any, _raw: bytes) -> tuple[int, dict[str, Any]]:
        if self.state.menus.pop(menu_id, None) is None:
            return 404, {"message": "Not found"}
        if self.state.default == menu_id:
            self.state.default = None
        return 200, {}

    def _webhook(self, _id: Any, _headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        endpoint = json.loads(raw or b"{}").get("endpoint", "")
        if not endpoint.startswith("https://"):
            return 400, {"message": "The webhook URL must use HTTPS"}
        self.state.webhook = endpoint
        return 200, {}

    def _handler(self, host: str) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = fake.answer(host, self.command, self.path, self.headers, raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 (http.server naming)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def menu_problem(body: dict[str, Any]) -> str | None:
    size = body.get("size") or {}
    if (size.get("width"), size.get("height")) not in SIZES:
        return "invalid size"
    if not body.get("name") or len(body["name"]) > 300:
        return "invalid name"
    if not body.get("chatBarText") or len(body["chatBarText"]) > 14:
        return "invalid chatBarText"
    areas = body.get("areas") or []
    if not 1 <= len(areas) <= 20:
        return "invalid areas"
    for area in areas:
        b, action = area.get("bounds", {}), area.get("action", {})
        if b.get("x", -1) < 0 or b.get("y", -1) < 0 or b["x"] + b["width"] > size["width"] \
                or b["y"] + b["height"] > size["height"]:
            return "area out of bounds"
        kind = action.get("type")
        if kind not in ("message", "postback", "uri", "datetimepicker", "richmenuswitch") \
                or (kind == "message" and not action.get("text")) \
                or len(action.get("label", "")) > 20:
            return "invalid action"
    return None
