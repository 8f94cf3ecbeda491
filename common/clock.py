"""Local time: Madoguchi runs on Asia/Tokyo (stored times are UTC, shown times are Tokyo)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS = "月火水木金土日"  # index = date.weekday(), Monday first


def tokyo(moment: datetime) -> datetime:
    """An aware moment as Tokyo local time."""
    return moment.astimezone(TOKYO)


def weekday_name(day: date) -> str:
    """月, 火, … for a date (or datetime, already in the zone it is shown in)."""
    return WEEKDAYS[day.weekday()]
