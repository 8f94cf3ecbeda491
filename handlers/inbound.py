"""A resident's event as handlers see it, whatever channel it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TEXT = "text"
POSTBACK = "postback"
FOLLOW = "follow"
UNFOLLOW = "unfollow"
# Message kinds we cannot read; the resident is asked to write in text.
NON_TEXT = ("sticker", "image", "video", "audio", "file", "location")


@dataclass(frozen=True)
class Inbound:
    kind: str  # text | postback | follow | unfollow | one of NON_TEXT | unknown
    channel: str
    user_id: str | None
    occurred_at: datetime
    text: str | None = None
    postback_data: str | None = None
    postback_params: dict[str, str] = field(default_factory=dict)
    reply_token: str | None = None
