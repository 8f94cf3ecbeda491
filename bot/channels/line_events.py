"""Normalise a stored LINE-shaped webhook event into an Inbound (with the LINE SDK's models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from handlers.inbound import FOLLOW, POSTBACK, TEXT, UNFOLLOW, Inbound

_CONTENT_KINDS = {
    "StickerMessageContent": "sticker",
    "ImageMessageContent": "image",
    "VideoMessageContent": "video",
    "AudioMessageContent": "audio",
    "FileMessageContent": "file",
    "LocationMessageContent": "location",
}


def user_id_of(payload: dict[str, Any]) -> str | None:
    source = payload.get("source")
    if isinstance(source, dict) and isinstance(source.get("userId"), str):
        return source["userId"]
    return None


def parse_event(payload: dict[str, Any], channel: str, received_at: datetime) -> Inbound:
    user_id = user_id_of(payload)
    occurred_at = _timestamp(payload, received_at)
    base: dict[str, Any] = {"channel": channel, "user_id": user_id, "occurred_at": occurred_at}
    try:
        event = Event.from_dict(payload)
    except Exception:  # a shape this SDK version does not accept
        return _lenient(payload, base)
    reply_token = getattr(event, "reply_token", None)
    if isinstance(event, MessageEvent):
        message = event.message
        if isinstance(message, TextMessageContent):
            return Inbound(kind=TEXT, text=message.text, reply_token=reply_token, **base)
        kind = _CONTENT_KINDS.get(type(message).__name__, "unknown")
        return Inbound(kind=kind, reply_token=reply_token, **base)
    if isinstance(event, PostbackEvent):
        params = {k: str(v) for k, v in (event.postback.params or {}).items()}
        return Inbound(
            kind=POSTBACK, postback_data=event.postback.data, postback_params=params,
            reply_token=reply_token, **base,
        )
    if isinstance(event, FollowEvent):
        return Inbound(kind=FOLLOW, reply_token=reply_token, **base)
    if isinstance(event, UnfollowEvent):
        return Inbound(kind=UNFOLLOW, **base)
    return Inbound(kind="unknown", **base)


def _timestamp(payload: dict[str, Any], fallback: datetime) -> datetime:
    value = payload.get("timestamp")
    if isinstance(value, int | float) and 0 < value < 1e14:
        return datetime.fromtimestamp(value / 1000, UTC)
    return fallback


def _lenient(payload: dict[str, Any], base: dict[str, Any]) -> Inbound:
    """Read the fields we need from an event the SDK refused (a newer or odd shape), so a
    resident's words or a follow are never dropped for a missing optional field."""
    kind = payload.get("type")
    token = payload.get("replyToken") if isinstance(payload.get("replyToken"), str) else None
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    if kind == "message" and message.get("type") == "text" and isinstance(message.get("text"), str):
        return Inbound(kind=TEXT, text=message["text"], reply_token=token, **base)
    if kind == "message" and message.get("type") in _CONTENT_KINDS.values():
        return Inbound(kind=message["type"], reply_token=token, **base)
    if kind == "follow":
        return Inbound(kind=FOLLOW, reply_token=token, **base)
    if kind == "unfollow":
        return Inbound(kind=UNFOLLOW, **base)
    postback = payload.get("postback") if isinstance(payload.get("postback"), dict) else {}
    if kind == "postback" and isinstance(postback.get("data"), str):
        params = postback.get("params") if isinstance(postback.get("params"), dict) else {}
        return Inbound(kind=POSTBACK, postback_data=postback["data"],
                       postback_params={k: str(v) for k, v in params.items()},
                       reply_token=token, **base)
    return Inbound(kind="unknown", **base)
