"""What handlers hand back to a channel: plain data, rendered by bot/channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# LINE's limits, counted as LINE counts them: in UTF-16 code units (an emoji outside the
# Basic Multilingual Plane counts two).
MAX_TEXT = 5000
MAX_LABEL = 20
MAX_QUICK_REPLIES = 13
MAX_POSTBACK_DATA = 300
MAX_DISPLAY_TEXT = 300


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """`text` within `limit` UTF-16 units, ending in "…" when cut; never splits a pair."""
    if utf16_len(text) <= limit:
        return text
    out, used = [], 1  # room for the ellipsis
    for char in text:
        size = utf16_len(char)
        if used + size > limit:
            break
        out.append(char)
        used += size
    return "".join(out) + "…"


@dataclass(frozen=True)
class QuickReply:
    """A button under a message. Sends `text` as the resident, or a postback `data`."""

    label: str
    text: str | None = None
    data: str | None = None


@dataclass(frozen=True)
class DatetimePicker:
    """A LINE datetime picker button; the choice comes back as a postback with params."""

    label: str
    data: str
    mode: str = "datetime"  # date, time or datetime
    initial: datetime | None = None
    min: datetime | None = None
    max: datetime | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    quick_replies: list[QuickReply] = field(default_factory=list)
    pickers: list[DatetimePicker] = field(default_factory=list)

    def problems(self) -> list[str]:
        """What LINE would refuse and cannot be fixed by clipping (postback data is an
        identifier: cut, it would mean something else). Empty when the reply can be sent."""
        found = []
        for data in [q.data for q in self.quick_replies] + [p.data for p in self.pickers]:
            if data is not None and utf16_len(data) > MAX_POSTBACK_DATA:
                found.append(f"postback data of {utf16_len(data)} units (max 300)")
        if len(self.pickers) > MAX_QUICK_REPLIES:
            found.append(f"{len(self.pickers)} pickers (max 13 buttons)")
        return found

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "quick_replies": [qr.__dict__ for qr in self.quick_replies],
            "pickers": [
                {**p.__dict__, **{k: (v.isoformat() if isinstance(v, datetime) else v)
                                  for k, v in p.__dict__.items() if k in ("initial", "min", "max")}}
                for p in self.pickers
            ],
        }

    @staticmethod
    def from_dict(data: dict) -> Reply:
        def when(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return Reply(
            text=data["text"],
            quick_replies=[QuickReply(**qr) for qr in data.get("quick_replies", [])],
            pickers=[
                DatetimePicker(
                    label=p["label"], data=p["data"], mode=p.get("mode", "datetime"),
                    initial=when(p.get("initial")), min=when(p.get("min")), max=when(p.get("max")),
                )
                for p in data.get("pickers", [])
            ],
        )
