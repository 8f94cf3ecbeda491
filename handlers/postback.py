"""The one codec for postback data (the string a button sends back): "prefix:arg:arg…".

The prefix picks the flow (handlers.registry); the arguments are the flow's own. LINE allows
300 characters; ids and short words only, never resident text.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = ":"
MAX_LENGTH = 300


@dataclass(frozen=True)
class Postback:
    prefix: str
    args: tuple[str, ...] = ()

    def arg(self, index: int, default: str = "") -> str:
        return self.args[index] if index < len(self.args) else default

    def int_arg(self, index: int) -> int | None:
        value = self.arg(index)
        return int(value) if value.isdigit() else None


def encode(prefix: str, *args: object) -> str:
    """encode("checkin", "ok", 12) == "checkin:ok:12"; None arguments are left out."""
    parts = [prefix, *(str(a) for a in args if a is not None)]
    if any(not p or SEPARATOR in p for p in parts[:1]) or any(SEPARATOR in p for p in parts):
        raise ValueError(f"postback parts may not contain {SEPARATOR!r}: {parts!r}")
    data = SEPARATOR.join(parts)
    if len(data) > MAX_LENGTH:
        raise ValueError("postback data longer than LINE accepts")
    return data


def decode(data: str | None) -> Postback:
    """The prefix and arguments of postback data (an empty prefix for none)."""
    prefix, *args = (data or "").split(SEPARATOR)
    return Postback(prefix, tuple(args))
