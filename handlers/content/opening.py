"""When a phone line answers, as data: parsed and validated when the pack loads.

A hotline's ``open`` is one of:

* ``"24h"`` — every hour of every day (110, 119, 189, よりそいホットライン …);
* a list of periods ``"DAYS HH:MM-HH:MM"``, e.g. ``["mon-fri 09:00-17:00", "sat 10:00-16:00"]``.
  DAYS is ``daily``, a day (``mon`` … ``sun``), a range (``mon-fri``) or ``hol`` (Japanese
  national holidays, jpholiday, 振替休日 included), comma-separated. On a holiday only the
  periods naming ``hol`` (or ``daily``) apply: a ``mon-fri`` line is closed on a holiday
  Monday. An end past midnight (``16:00-08:00`` or ``08:00-32:00``) runs into the next day.
* absent — the hours are unknown (「公式サイトでご確認ください」): never shown as open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import jpholiday

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY = "hol"
ALWAYS = "24h"
_PERIOD = re.compile(r"^(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class Period:
    weekdays: frozenset[int]  # Monday = 0
    holidays: bool  # applies on national holidays
    start: int  # minutes after midnight
    end: int  # minutes after the same midnight; may exceed 24 h (runs into the next day)

    def covers(self, day: date, minute: int) -> bool:
        """Whether this period, started on ``day``, is running ``minute`` minutes after its
        midnight (minute may be ≥ 1440 for the small hours of the next day)."""
        if not self._applies(day):
            return False
        return self.start <= minute < self.end

    def _applies(self, day: date) -> bool:
        if jpholiday.is_holiday(day):
            return self.holidays
        return day.weekday() in self.weekdays


@dataclass(frozen=True)
class OpeningHours:
    always: bool = False
    periods: tuple[Period, ...] = ()

    def is_open(self, local: datetime) -> bool:
        """``local`` is a wall-clock time in the line's timezone (Asia/Tokyo)."""
        if self.always:
            return True
        minute = local.hour * 60 + local.minute
        today = local.date()
        yesterday = today - timedelta(days=1)
        return any(p.covers(today, minute) or p.covers(yesterday, minute + 1440)
                   for p in self.periods)


def parse_opening(value: str | list[str]) -> OpeningHours:
    """``"24h"`` or a list of ``"DAYS HH:MM-HH:MM"``; ValueError says what is wrong."""
    if value == ALWAYS:
        return OpeningHours(always=True)
    if isinstance(value, str):
        raise ValueError(f'open must be "24h" or a list like ["mon-fri 09:00-17:00"], '
                         f"got {value!r}")
    if not value:
        raise ValueError("open is an empty list: leave it out when the hours are unknown")
    return OpeningHours(periods=tuple(_period(item) for item in value))


def _period(text: str) -> Period:
    match = _PERIOD.match(text.strip().lower())
    if not match:
        raise ValueError(f'period {text!r} is not like "mon-fri 09:00-17:00"')
    weekdays, holidays = _days(match["days"], text)
    start, end = _minutes(match["start"], text), _minutes(match["end"], text)
    if end <= start:
        end += 24 * 60  # e.g. 22:00-06:00 runs overnight
    if start >= 24 * 60 or end - start > 24 * 60:
        raise ValueError(f"period {text!r} must start before 24:00 and last at most 24 hours")
    return Period(frozenset(weekdays), holidays, start, end)


def _days(spec: str, text: str) -> tuple[set[int], bool]:
    weekdays: set[int] = set()
    holidays = False
    for part in spec.split(","):
        if part == "daily":
            weekdays |= set(range(7))
            holidays = True
        elif part == HOLIDAY:
            holidays = True
        elif "-" in part:
            first, _, last = part.partition("-")
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"period {text!r}: unknown day in {part!r} (use mon … sun)")
            a, b = DAYS.index(first), DAYS.index(last)
            weekdays |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(b + 1))
        elif part in DAYS:
            weekdays.add(DAYS.index(part))
        else:
            raise ValueError(f"period {text!r}: unknown day {part!r} (use mon … sun, daily, hol)")
    return weekdays, holidays


def _minutes(hhmm: str, text: str) -> int:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    if minutes >= 60 or hours > 48:
        raise ValueError(f"period {text!r}: {hhmm} is not a time")
    return hours * 60 + minutes
