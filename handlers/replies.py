"""What handlers hand back to a channel: plain data, rendered by bot/channels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
