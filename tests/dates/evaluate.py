"""Score date parsers on tests/dates/dates.toml (see the file's header for the rules).

A parser is a function (text, now) → Reading: the ranges it found (first one scored) and
whether it says an hour is ambiguous (「3時」: 午前 or 午後?).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

DATA = Path(__file__).resolve().parent / "dates.toml"


@dataclass
class Reading:
    ranges: list[tuple[datetime, datetime]] = field(default_factory=list)
    ambiguous: bool = False


Parser = Callable[[str, datetime], Reading]


def load() -> tuple[datetime, list[tuple[str, str, int]]]:
    with DATA.open("rb") as fh:
        data = tomllib.load(fh)
    return datetime.fromisoformat(data["reference"]), [tuple(r) for r in data["rows"]]


def correct(reading: Reading, want_date: str, want_hour: int) -> bool:
    if want_date == "":
        return not reading.ranges and not reading.ambiguous
    if not reading.ranges:
        return False
    start, end = reading.ranges[0]
    if want_date != "*":
        day = date.fromisoformat(want_date)
        last = (end - timedelta(microseconds=1)).date()
        if not start.date() <= day <= last:
            return False
    if want_hour == -2:
        return reading.ambiguous
    return want_hour < 0 or start.hour == want_hour


def score(parser: Parser) -> tuple[int, int, list[str]]:
    now, rows = load()
    wrong = [text for text, d, h in rows if not correct(parser(text, now), d, h)]
    return len(rows) - len(wrong), len(rows), wrong


# -- the parsers ---------------------------------------------------------------------------


def madoguchi(text: str, now: datetime) -> Reading:
    """nlu/when.py, with its 「3時」 check."""
    from nlu.text import make_view
    from nlu.when import ambiguous_hours, extract_when

    ranges = [(r.start, r.end) for r in extract_when(make_view(text), now)]
    return Reading(ranges, bool(ambiguous_hours(text)))


def ja_timex(text: str, now: datetime) -> Reading:
    """ja-timex 0.2.8, its TIMEX3 values resolved against ``now`` as generously as we could:
    relative durations (明日 = P1D AFTER) from now, weekdays to the next one (in the week a
    preceding 来週 names), a time alone today if still ahead, else tomorrow."""
    import pendulum
    from ja_timex import TimexParser

    today = now.date()
    base: date | None = None
    week_base: date | None = None
    day: date | None = None
    hour: int | None = None
    minute = 0
    for t in TimexParser(reference=pendulum.instance(now)).parse(text):
        v = t.value
        if t.type == "DURATION" and t.mod == "AFTER":
            n = int("".join(c for c in v if c.isdigit()) or 0)
            if v.endswith("D"):
                base = today + timedelta(days=n)
            elif v.endswith("W"):
                week_base = today - timedelta(days=today.weekday()) + timedelta(days=7 * n)
                base = week_base
            elif v.endswith("M"):
                y, m = divmod(today.month - 1 + n, 12)
                base = date(today.year + y, m + 1, 1)
        elif t.type == "DATE":
            day = _timex_date(v, today, week_base) or day
        elif t.type == "TIME" and v.startswith("T"):
            parts = v[1:].split("-")
            if parts[0].isdigit():
                hour = int(parts[0])
                minute = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    day = day or base
    if day is None and hour is None:
        return Reading()
    tz = now.tzinfo
    if day is None:
        at = datetime.combine(today, time(hour % 24, minute), tzinfo=tz)
        day = today if at > now else today + timedelta(days=1)
    if hour is None:
        start = datetime.combine(day, time(0), tzinfo=tz)
        end = start + timedelta(days=7 if (day == week_base and base == week_base) else 1)
        return Reading([(start, end)])
    start = datetime.combine(day, time(hour % 24, minute), tzinfo=tz)
    return Reading([(start, start + timedelta(hours=1))])


def _timex_date(value: str, today: date, week_base: date | None) -> date | None:
    parts = value.split("-")
    if len(parts) == 3 and parts[1].startswith("W"):
        wd = int(parts[2]) - 1 if parts[2].isdigit() else None
        if wd is None:
            return None
        if week_base is not None:
            return week_base + timedelta(days=wd)
        return today + timedelta(days=(wd - today.weekday()) % 7)
    if len(parts) != 3:
        return None
    y, m, d = parts
    if not d.isdigit():
        return None
    month = int(m) if m.isdigit() else today.month
    year = int(y) if y.isdigit() else today.year
    try:
        found = date(year, month, int(d))
    except ValueError:
        return None
    if not y.isdigit() and found < today:
        if m.isdigit():
            found = date(year + 1, month, int(d))
        else:
            month += 1
            found = date(year + (month > 12), (month - 1) % 12 + 1, int(d))
    return found
