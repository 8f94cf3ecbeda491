"""Date and time expressions → candidate TimeRanges in Asia/Tokyo.

Resolved against ``now`` (default: the current time). Every datetime is built from calendar
components with ``zoneinfo`` (never by adding hours to naive datetimes), day arithmetic is done on
``date`` objects, and month-day dates that do not exist in a year (2/29) move to the next year
where they exist. A month-day already past this year means next year; a bare day of month
(15日) already past this month means next month.

Recognised (on NFKC text, so full-width digits work; hiragana and spaces tolerated):
  dates     12月5日, 12/5, 2025年1月15日, 15日, 今日, 明日/あした, あさって/明後日, しあさって,
            (今週|来週|再来週)の?X曜(日), X曜, 土日, 週末, 平日, 月末, 月初, 来月(の第N週), today,
            tomorrow, (next) monday
  times     14時, 14時半, 14時30分, 午後2時, 朝9時, 14:30, 2pm, 10時から12時, 15時まで, 3時ごろ
            (1〜7時 without 午前 is read as afternoon: office hours)
  parts     午前(中), 午後, 昼, 夕方, 夜, 朝, morning, afternoon, evening
A time with no date is today if still ahead, else tomorrow. A part of day with no date
("午前中ならいつでも") gives the next five weekdays.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from common.clock import TOKYO
from nlu.analysis import TimeRange
from nlu.text import TextView

_WD = {
    "月": 0,
    "火": 1,
    "水": 2,
    "木": 3,
    "金": 4,
    "土": 5,
    "日": 6,
    "げつ": 0,
    "か": 1,
    "すい": 2,
    "もく": 3,
    "きん": 4,
    "ど": 5,
    "にち": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_PARTS = {  # (start hour, start minute, end hour, end minute)
    "午前中": (9, 0, 12, 0),
    "ごぜんちゅう": (9, 0, 12, 0),
    "午前": (9, 0, 12, 0),
    "ごぜん": (9, 0, 12, 0),
    "morning": (9, 0, 12, 0),
    "朝": (8, 0, 11, 0),
    "あさ": (8, 0, 11, 0),
    "お昼": (11, 30, 13, 30),
    "昼": (11, 30, 13, 30),
    "おひる": (11, 30, 13, 30),
    "noon": (11, 30, 13, 30),
    "午後": (13, 0, 17, 0),
    "ごご": (13, 0, 17, 0),
    "afternoon": (13, 0, 17, 0),
    "昼過ぎ": (13, 0, 15, 0),
    "昼すぎ": (13, 0, 15, 0),
    "ひるすぎ": (13, 0, 15, 0),
    "昼前": (10, 30, 12, 0),
    "ひるまえ": (10, 30, 12, 0),
    "夕方": (16, 0, 18, 0),
    "ゆうがた": (16, 0, 18, 0),
    "evening": (17, 0, 20, 0),
    "夜": (18, 0, 21, 0),
    "よる": (18, 0, 21, 0),
}

_NUM = r"(\d{1,2})"
_DATE_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("ymd", re.compile(r"(\d{4})[年/.-](\d{1,2})[月/.-](\d{1,2})日?")),
    (
        "md",
        re.compile(
            r"(?<![\d/])" + _NUM + r"(?:月|がつ)の?" + _NUM + r"(?:(?:日|にち)|(?![\d時分]))"
        ),
    ),
    ("md", re.compile(r"(?<![\d/:-])" + _NUM + r"/" + _NUM + r"(?![\d/])")),
    (
        "rel",
        re.compile(
            r"(今日|きょう(?=[はものにじ中]|$)|本日|today|しあさって|明々後日|明後日|あさって"
            r"|day ?after ?tomorrow|明日|あした|tomorrow)"
        ),
    ),
    (
        "week_wd",
        re.compile(
            r"(今週|こんしゅう|来週|らいしゅう|再来週|さらいしゅう|next ?week|this ?week)?(?:の)?"
            r"(月|火|水|木|金|土|日|げつ|か|すい|もく|きん|ど|にち)(?:曜日|曜|ようび|よう)"
        ),
    ),
    (
        "en_wd",
        re.compile(r"(next ?|this ?)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"),
    ),
    ("weekend", re.compile(r"(土日|週末|しゅうまつ|weekend)")),
    ("weekdays", re.compile(r"(平日|へいじつ|weekdays?)")),
    ("month_end", re.compile(r"(月末|げつまつ)")),
    ("month_start", re.compile(r"(月初め|月初|つきはじめ)")),
    (
        "month_week",
        re.compile(r"(今月|来月|再来月|らいげつ)(?:の)?(?:第([1-5１-５])週|([上中下])旬)?"),
    ),
    (
        "week",
        re.compile(
            r"(来週|らいしゅう|再来週|今週)(?!の?(月|火|水|木|金|土|日|げつ|か|すい|もく|きん|ど|にち)(曜|よう))"
        ),
    ),
    (
        "day",
        re.compile(
            r"(?<![\d/月])"
            + _NUM
            + r"(?:日|にち)(?!間|くらい|ぐらい|ほど|前|まえ|後|ご|以内|おき|連続|も|分|目|ぶり|曜"
            + r"|に?\d+回)"
        ),
    ),
]
_TIME = re.compile(
    r"(午前|午後|ごぜん|ごご|朝|あさ|夜|よる|夕方|ゆうがた|昼|ひる)?の?"
    + _NUM
    + r"(?:時|じ)(?!間|かん)(半|はん|"
    + r"(\d{1,2})(?:分|ふん|ぷん))?"
    + r"(?:(?:から|〜|~|-|ー)(?:(午前|午後)?"
    + _NUM
    + r"(?:時|じ)(半|(\d{1,2})分)?))?(まで)?"
    + r"|(?<![\d:])(\d{1,2}):(\d{2})(?:(?:から|〜|~|-)(\d{1,2}):(\d{2}))?"
    + r"|(?<![\d:])(\d{1,2})(?::(\d{2}))?(am|pm|a\.m\.|p\.m\.)"
)
_PART = re.compile(
    r"(午前中|ごぜんちゅう|午前|ごぜん|午後|ごご|昼過ぎ|昼すぎ|ひるすぎ|昼前|ひるまえ|"
    r"お昼|おひる|昼(?!ご|食|間)|夕方|ゆうがた|夜(?!中)|よる|朝(?!ごはん|ご飯|食|から|晩)|"
    r"morning|afternoon|evening|noon)"
)
_LONE_PART_CONTEXT = re.compile(
    r"(なら|でも|いつでも|が(いい|都合|希望|空|あい)|に(予約|相談|行|伺)|で(お願い|予約)|の(予約|相談|面談)|希望|空いて|あいて|available|ok|works)"
)
_CONNECTOR = re.compile(
    r"^(?:[(（][^)）]{1,3}[)）]|の|に|で|は|、|,|から|頃|ごろ|くらい|ぐらい|とか|\s|at|on|in|the)*$"
)


@dataclass
class _Anchor:
    start: int
    end: int
    kind: str  # "date", "time", "part"
    dates: list[date] | None = None  # for "date": candidate days
    span_days: tuple[date, date] | None = None  # for multi-day ranges (月末, 来月)
    t: tuple[time, time] | None = None  # for "time"/"part"
    multi: bool = False  # weekdays/いつでも: several candidate days


def _valid_md(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _resolve_md(today: date, month: int, day: int, year: int | None = None) -> date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    if year is not None:
        return _valid_md(year, month, day)
    for y in range(today.year, today.year + 9):  # 2/29 can be up to 8 years away
        d = _valid_md(y, month, day)
        if d is not None and d >= today:
            return d
    return None


def _resolve_day(today: date, day: int) -> date | None:
    if not 1 <= day <= 31:
        return None
    y, m = today.year, today.month
    for _ in range(13):
        d = _valid_md(y, m, day)
        if d is not None and d >= today:
            return d
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return None


def _add_months(d: date, n: int) -> tuple[int, int]:
    m = d.month - 1 + n
    return d.year + m // 12, m % 12 + 1


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _next_weekdays(today: date, count: int, start_today: bool) -> list[date]:
    out, d = [], today if start_today else today + timedelta(days=1)
    while len(out) < count:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def _hour(h: int, marker: str | None, minute: int = 0) -> tuple[int, int] | None:
    if marker in ("午後", "ごご", "夜", "よる", "夕方", "ゆうがた", "pm", "p.m.") and h < 12:
        h += 12
    elif marker in ("午前", "ごぜん", "朝", "あさ", "am", "a.m.") and h == 12:
        h = 0
    elif marker is None and 1 <= h <= 7:
        h += 12  # 3時 → 15:00: consultations happen in office hours
    if not (0 <= h <= 24 and 0 <= minute < 60):
        return None
    return h, minute


def _t(hm: tuple[int, int]) -> time:
    h, m = hm
    return time(23, 59) if h == 24 else time(h, m)


def _plus_hour(hm: tuple[int, int]) -> time:
    h, m = hm
    return time(min(h + 1, 23), m if h + 1 <= 23 else 59)


def _date_anchor(kind: str, m: re.Match, today: date) -> _Anchor | None:
    a = _Anchor(m.start(), m.end(), "date")
    g = m.groups()
    if kind == "ymd":
        d = _resolve_md(today, int(g[1]), int(g[2]), int(g[0]))
        a.dates = [d] if d else None
    elif kind == "md":
        d = _resolve_md(today, int(g[0]), int(g[1]))
        a.dates = [d] if d else None
    elif kind == "day":
        d = _resolve_day(today, int(g[0]))
        a.dates = [d] if d else None
    elif kind == "rel":
        w = g[0]
        if w in ("今日", "きょう", "本日", "today"):
            n = 0
        elif w in ("明日", "あした", "tomorrow"):
            n = 1
        elif w in ("しあさって", "明々後日"):
            n = 3
        else:
            n = 2
        a.dates = [today + timedelta(days=n)]
    elif kind == "week_wd":
        week, wd = g[0] or "", _WD[g[1]]
        if week in ("来週", "らいしゅう") or week.replace(" ", "") == "nextweek":
            a.dates = [_monday(today) + timedelta(days=7 + wd)]
        elif week in ("再来週", "さらいしゅう"):
            a.dates = [_monday(today) + timedelta(days=14 + wd)]
        elif week:
            a.dates = [_monday(today) + timedelta(days=wd)]
        else:
            a.dates = [today + timedelta(days=(wd - today.weekday()) % 7)]
    elif kind == "en_wd":
        wd = _WD[g[1]]
        ahead = (wd - today.weekday()) % 7
        if g[0] and g[0].strip() == "next" and ahead == 0:
            ahead = 7
        a.dates = [today + timedelta(days=ahead)]
    elif kind == "weekend":
        sat = today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() == 6:
            sat = today - timedelta(days=1)
        a.span_days = (max(sat, today), sat + timedelta(days=1))
    elif kind == "weekdays":
        a.multi = True
        a.dates = _next_weekdays(today, 5, start_today=True)
    elif kind == "month_end":
        last = calendar.monthrange(today.year, today.month)[1]
        start = date(today.year, today.month, max(1, last - 4))
        a.span_days = (max(start, today), date(today.year, today.month, last))
    elif kind == "month_start":
        if today.day <= 5:
            a.span_days = (today, date(today.year, today.month, 5))
        else:
            y, mo = _add_months(today, 1)
            a.span_days = (date(y, mo, 1), date(y, mo, 5))
    elif kind == "month_week":
        n = {"今月": 0, "来月": 1, "らいげつ": 1, "再来月": 2}[g[0]]
        y, mo = _add_months(today, n)
        last = calendar.monthrange(y, mo)[1]
        if g[1]:
            k = int(g[1].translate(str.maketrans("１２３４５", "12345")))
            first, end = 1 + 7 * (k - 1), min(7 * k, last)
            if first > last:
                return None
        elif g[2]:
            first, end = {"上": (1, 10), "中": (11, 20), "下": (21, last)}[g[2]]
        else:
            first, end = 1, last
        start = date(y, mo, first)
        a.span_days = (max(start, today), date(y, mo, end))
        if a.span_days[0] > a.span_days[1]:
            return None
    elif kind == "week":
        mon = _monday(today)
        if g[0] in ("来週", "らいしゅう"):
            a.span_days = (mon + timedelta(days=7), mon + timedelta(days=13))
        elif g[0] == "再来週":
            a.span_days = (mon + timedelta(days=14), mon + timedelta(days=20))
        else:
            a.span_days = (today, mon + timedelta(days=6))
    if a.dates is None and a.span_days is None:
        return None
    return a


def _time_anchor(m: re.Match) -> _Anchor | None:
    g = m.groups()
    if g[1] is not None:  # N時
        marker = g[0]
        minute = 30 if g[2] in ("半", "はん") else int(g[3]) if g[3] else 0
        start = _hour(int(g[1]), marker, minute)
        if start is None:
            return None
        if g[5] is not None:  # range: 10時から12時
            end_marker = g[4] or (marker if marker in ("午後", "ごご") else None)
            emin = 30 if g[6] == "半" else int(g[7]) if g[7] else 0
            end = _hour(int(g[5]), end_marker, emin)
            if end is None:
                return None
            if end <= start and end[0] + 12 <= 24:
                end = (end[0] + 12, end[1])
            return _Anchor(m.start(), m.end(), "time", t=(_t(start), _t(end)))
        if g[8]:  # N時まで
            return _Anchor(m.start(), m.end(), "time", t=(time(9, 0), _t(start)))
        return _Anchor(m.start(), m.end(), "time", t=(_t(start), _plus_hour(start)))
    if g[9] is not None:  # 14:30
        start = _hour(int(g[9]), "24h", int(g[10]))
        if start is None:
            return None
        if g[11] is not None:
            end = _hour(int(g[11]), "24h", int(g[12]))
            if end is None:
                return None
            return _Anchor(m.start(), m.end(), "time", t=(_t(start), _t(end)))
        return _Anchor(m.start(), m.end(), "time", t=(_t(start), _plus_hour(start)))
    if g[13] is not None:  # 2pm
        start = _hour(int(g[13]), g[15].lower(), int(g[14]) if g[14] else 0)
        if start is None:
            return None
        return _Anchor(m.start(), m.end(), "time", t=(_t(start), _plus_hour(start)))
    return None


def _overlaps(a: _Anchor, taken: list[_Anchor]) -> bool:
    return any(a.start < b.end and b.start < a.end for b in taken)


def _at(d: date, t: time) -> datetime:
    return datetime(d.year, d.month, d.day, t.hour, t.minute, tzinfo=TOKYO)


def _day_range(d: date) -> tuple[datetime, datetime]:
    nxt = d + timedelta(days=1)
    return _at(d, time(0)), _at(nxt, time(0))


def to_tokyo(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(TOKYO)
    if now.tzinfo is None:
        return now.replace(tzinfo=TOKYO)
    return now.astimezone(TOKYO)


_KANJI_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十]+(?=[月日時分/:]|じ|がつ|にち)")
# 「3時」 with nothing saying morning or afternoon: the bot asks (午前/午後) instead of guessing
_BARE_HOUR = re.compile(r"(?<![\d:午前後朝夜方昼ごぜん])([1-9]|1[0-2])(?:時|じ)(?!間|かん)")
_DAY_PART_WORD = re.compile(
    r"午前|午後|ごぜん|ごご|朝|あさ(?!って)|昼|ひる|夕方|ゆうがた|夜|よる|am|pm|a\.m|p\.m|morning"
    r"|afternoon"
)


def _kanji_value(text: str) -> int:
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_KANJI_DIGIT.get(tens, 1) if tens else 1) * 10 + (
            _KANJI_DIGIT.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _KANJI_DIGIT[ch]
    return value


def arabic_numerals(flat: str) -> tuple[str, list[int]]:
    """十二月三日 → 12月3日, with a map from each position back to ``flat``."""
    out: list[str] = []
    back: list[int] = []
    pos = 0
    for m in _KANJI_NUMBER.finditer(flat):
        for i in range(pos, m.start()):
            out.append(flat[i])
            back.append(i)
        digits = str(_kanji_value(m.group()))
        out.append(digits)
        back.extend([m.start()] * len(digits))
        pos = m.end()
    for i in range(pos, len(flat)):
        out.append(flat[i])
        back.append(i)
    back.append(len(flat))
    return "".join(out), back


def ambiguous_hours(text: str) -> list[int]:
    """Hours written without 午前/午後 that could be either (「3時」, 「三時ごろ」); empty when
    the text says which part of the day (「午後3時」, 「朝9時」, 「15時」)."""
    import unicodedata

    flat, _ = arabic_numerals(unicodedata.normalize("NFKC", text).lower())
    if _DAY_PART_WORD.search(flat):
        return []
    return [int(m.group(1)) for m in _BARE_HOUR.finditer(flat) if 1 <= int(m.group(1)) <= 7]


def extract_when(view: TextView, now: datetime | None = None) -> list[TimeRange]:
    now = to_tokyo(now)
    today = now.date()
    flat, back = arabic_numerals(view.flat)
    anchors: list[_Anchor] = []
    for kind, pat in _DATE_PATTERNS:
        for m in pat.finditer(flat):
            a = _date_anchor(kind, m, today)
            if a is not None and not _overlaps(a, anchors):
                anchors.append(a)
    for m in _TIME.finditer(flat):
        if not m.group(0):
            continue
        a = _time_anchor(m)
        if a is not None and not _overlaps(a, anchors):
            anchors.append(a)
    for m in _PART.finditer(flat):
        a = _Anchor(m.start(), m.end(), "part")
        h1, m1, h2, m2 = _PARTS[m.group(1)]
        a.t = (time(h1, m1), time(h2, m2))
        if not _overlaps(a, anchors):
            anchors.append(a)
    anchors.sort(key=lambda x: x.start)

    # group: a date anchor absorbs the times/parts that follow it closely
    groups: list[list[_Anchor]] = []
    for a in anchors:
        if groups:
            prev = groups[-1][-1]
            gap = flat[prev.end : a.start]
            joinable = _CONNECTOR.match(gap) is not None and len(gap) <= 8
            has_date = any(x.kind == "date" for x in groups[-1])
            if joinable and (a.kind != "date" or not has_date):
                groups[-1].append(a)
                continue
        groups.append([a])

    out: list[TimeRange] = []
    for g in groups:
        s, e = view.flat_span_to_norm(back[g[0].start], back[g[-1].end])
        os_, oe = view.orig_span(s, e)
        text = view.text[os_:oe]
        date_a = next((x for x in g if x.kind == "date"), None)
        times = [x for x in g if x.kind in ("time", "part")]
        if date_a is None:
            only_parts = all(x.kind == "part" for x in times)
            if only_parts:
                ctx = flat[max(0, g[0].start - 6) : g[-1].end + 8]
                if not _LONE_PART_CONTEXT.search(ctx):
                    continue
                days = _next_weekdays(today, 5, start_today=True)
            else:
                days = []
                first = times[0].t
                days = [today if _at(today, first[0]) > now else today + timedelta(days=1)]
            for d in days:
                for x in times:
                    st, en = _at(d, x.t[0]), _at(d, x.t[1])
                    if en > now:
                        out.append(TimeRange(st, en, text))
            continue
        if date_a.span_days is not None:
            d1, d2 = date_a.span_days
            if times:
                d = d1
                while d <= d2:
                    for x in times:
                        out.append(TimeRange(_at(d, x.t[0]), _at(d, x.t[1]), text))
                    d += timedelta(days=1)
            else:
                out.append(TimeRange(_at(d1, time(0)), _at(d2 + timedelta(days=1), time(0)), text))
            continue
        for d in date_a.dates or []:
            if times:
                for x in times:
                    out.append(TimeRange(_at(d, x.t[0]), _at(d, x.t[1]), text))
            else:
                st, en = _day_range(d)
                out.append(TimeRange(st, en, text))
    return out[:20]
