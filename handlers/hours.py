"""Business hours: is staff answering now, and when next.

Closed on weekends (days not in ``business_hours.weekdays``), Japanese national holidays
(jpholiday, incl. 振替休日) and the pack's fixed closures (年末年始 12/29–1/3).
Times are in the pack's timezone (Asia/Tokyo); a naive ``now`` is taken as that local time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import jpholiday

from common.clock import weekday_name
from handlers.content.schema import BusinessHours, ContentPack

_MAX_DAYS = 60  # longest closure we search across (年末年始 + a run of holidays is ~10)


def _hours(pack: ContentPack | BusinessHours) -> BusinessHours:
    return pack if isinstance(pack, BusinessHours) else pack.business_hours


def _local(now: datetime, hours: BusinessHours) -> datetime:
    tz = ZoneInfo(hours.timezone)
    return now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)


def is_business_day(day: date, pack: ContentPack | BusinessHours) -> bool:
    hours = _hours(pack)
    if day.weekday() not in hours.weekdays:
        return False
    if f"{day.month:02d}-{day.day:02d}" in hours.closed_dates:
        return False
    return not (hours.national_holidays and jpholiday.is_holiday(day))


def closure_reason(day: date, pack: ContentPack | BusinessHours) -> str | None:
    """Why ``day`` is closed ("土日", "年末年始", the holiday's name), or None if open."""
    hours = _hours(pack)
    if f"{day.month:02d}-{day.day:02d}" in hours.closed_dates:
        return "年末年始" if day.month in (12, 1) else "休業日"
    if hours.national_holidays and jpholiday.is_holiday(day):
        return jpholiday.is_holiday_name(day) or "祝日"
    if day.weekday() not in hours.weekdays:
        return "土日" if day.weekday() >= 5 else "休業日"
    return None


def is_open(now: datetime, pack: ContentPack | BusinessHours) -> bool:
    """Whether staff are answering at ``now``."""
    hours = _hours(pack)
    local = _local(now, hours)
    if not is_business_day(local.date(), hours):
        return False
    return hours.open <= local.time().replace(tzinfo=None) < hours.close


def next_open(now: datetime, pack: ContentPack | BusinessHours) -> datetime:
    """The next moment staff answer: ``now`` itself if open, else the next opening time.

    The result is timezone-aware in the pack's timezone.
    """
    hours = _hours(pack)
    local = _local(now, hours)
    if is_open(local, hours):
        return local
    tz = local.tzinfo
    day = local.date()
    if is_business_day(day, hours) and local.time().replace(tzinfo=None) < hours.open:
        return datetime.combine(day, hours.open, tzinfo=tz)
    for _ in range(_MAX_DAYS):
        day += timedelta(days=1)
        if is_business_day(day, hours):
            return datetime.combine(day, hours.open, tzinfo=tz)
    raise ValueError(f"no business day within {_MAX_DAYS} days of {local.date()}")


def format_next_open(when: datetime) -> str:
    """Japanese wording for a time, e.g. "1月6日（火）8時30分"."""
    weekday = weekday_name(when)
    minute = f"{when.minute}分" if when.minute else ""
    return f"{when.month}月{when.day}日（{weekday}）{when.hour}時{minute}"
