"""/simulator: chat as a resident without LINE, through the same storage, worker and handlers."""

from __future__ import annotations

import re
import time
import uuid
from collections import defaultdict
from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select

from bot.services import services
from bot.webhook_line import to_new_event
from storage import crypto, events
from storage.db import transaction
from storage.models import Message, Outbox, Resident

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
SID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_TEXT = 10_000


def _enabled() -> None:
    if not services().config.simulator_enabled:
        abort(404)


def _sid(value: Any) -> str:
    if not isinstance(value, str) or not SID.match(value):
        abort(400, "sid must be 1–40 letters, digits, - or _")
    return value


@bp.get("")
def page() -> str:
    _enabled()
    return render_template("simulator.html")


@bp.post("/api/events")
def post_event() -> Any:
    """Store a LINE-shaped event for a simulated resident (message, postback or follow)."""
    _enabled()
    body = request.get_json(silent=True) or {}
    sid = _sid(body.get("sid"))
    kind = body.get("type", "message")
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": f"sim-{sid}"},
        "webhookEventId": str(uuid.uuid4()),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": uuid.uuid4().hex,  # unused by the simulator channel; LINE's shape
    }
    if kind == "message":
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            abort(400, "text is required")
        event["message"] = {"type": "text", "id": uuid.uuid4().hex, "text": text[:MAX_TEXT],
                            "quoteToken": "sim"}
    elif kind == "postback":
        data = body.get("data")
        if not isinstance(data, str):
            abort(400, "data is required")
        event["postback"] = {"data": data[:300], "params": body.get("params") or {}}
    elif kind == "follow":
        event["follow"] = {"isUnblocked": False}
    else:
        abort(400, "type must be message, postback or follow")
    with transaction(services().factory) as session:
        events.store(session, [to_new_event(event, "simulator")])
    return jsonify({"ok": True})


@bp.get("/api/messages")
def messages() -> Any:
    """The conversation so far (bot messages once delivered), after message id `after`."""
    _enabled()
    sid = _sid(request.args.get("sid"))
    after = request.args.get("after", default=0, type=int)
    key = crypto.resident_key("simulator", f"sim-{sid}")
    with transaction(services().factory) as session:
        resident = session.scalar(select(Resident).where(Resident.resident_key == key))
        if resident is None:
            return jsonify({"messages": [], "alias": None})
        rows = session.execute(
            select(Message, Outbox)
            .outerjoin(Outbox, Message.outbox_id == Outbox.id)
            .where(Message.resident_id == resident.id, Message.id > after)
            .order_by(Message.id)
        ).all()
        return jsonify({"alias": resident.alias, "messages": _render(rows)})


def _render(rows: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    position: dict[int, int] = defaultdict(int)
    for message, send in rows:
        item: dict[str, Any] = {"id": message.id, "direction": message.direction,
                                "sender": message.sender, "text": message.text or ""}
        if send is not None:
            if send.status != "sent":
                break  # keep order: show nothing past a message not yet delivered
            index = position[send.id]
            position[send.id] += 1
            if index < len(send.messages):
                payload = send.messages[index]
                item["quick_replies"] = payload.get("quick_replies", [])
                item["pickers"] = payload.get("pickers", [])
        elif message.kind != "text":
            item["text"] = f"（{message.kind}）"
        out.append(item)
    return out
