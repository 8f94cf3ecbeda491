"""POST /callback/line: verify, de-duplicate, store durably, answer 200. Nothing else."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from flask import Blueprint, abort, request
from linebot.v3.webhook import SignatureValidator
from sqlalchemy.exc import OperationalError

from bot import observability
from bot.channels.line_events import user_id_of
from bot.services import services
from storage import crypto, events
from storage.db import transaction

log = logging.getLogger(__name__)
bp = Blueprint("line_webhook", __name__)


@bp.post("/callback/line")
def callback() -> tuple[str, int]:
    svc = services()
    secret = svc.config.line_channel_secret
    if not secret:
        abort(404)
    body = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    signature = request.headers.get("X-Line-Signature", "")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid body", 400
    if not signature or not SignatureValidator(secret).validate(text, signature):
        log.warning("webhook rejected: bad signature")
        return "invalid signature", 400
    try:
        document = json.loads(text)
    except ValueError:
        return "malformed JSON", 400
    raw_events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(raw_events, list):
        return "no events list", 400
    new_events = [to_new_event(e, "line") for e in raw_events if isinstance(e, dict)]
    try:
        with transaction(svc.factory) as session:
            stored = events.store(session, new_events)
    except OperationalError:
        # Database away: LINE redelivers on a non-2xx answer, so nothing is lost.
        log.error("webhook: database unavailable")
        return "temporarily unavailable", 503
    observability.count_received("line", len(new_events), stored)
    log.info("webhook: %d events, %d new", len(new_events), stored)
    return "OK", 200


def to_new_event(raw: dict[str, Any], channel: str) -> events.NewEvent:
    event_id = raw.get("webhookEventId")
    if not isinstance(event_id, str) or not event_id:
        canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False).encode("utf-8")
        event_id = "sha256:" + hashlib.sha256(canonical).hexdigest()
    user_id = user_id_of(raw)
    event_type = raw.get("type") if isinstance(raw.get("type"), str) else "unknown"
    return events.NewEvent(
        channel=channel,
        event_id=event_id,
        event_type=event_type,
        resident_key=crypto.resident_key(channel, user_id) if user_id else None,
        payload=raw,
    )
