"""Dates and times → tz-aware candidate ranges in Asia/Tokyo (NOW = Wed 2025-11-26 10:00)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nlu import analyze
from nlu.text import make_view
from nlu.when import extract_when

TOKYO = ZoneInfo("Asia/Tokyo")


def at(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=TOKYO)


def when(text, now):
    return extract_when(make_view(text), now)


def test_next_tuesday_afternoon_resolves(now):
    (r,) = when("来週の火曜の午後に予約したい", now)
    assert r.start == at(2025, 12, 2, 13) and r.end == at(2025, 12, 2, 17)
    assert r.text == "来週の火曜の午後"
    assert r.start.tzinfo is not None and r.start.utcoffset().total_seconds() == 9 * 3600


def test_slash_date_with_hour(now):
    (r,) = when("12/5の14時でお願いします", now)
    assert r.start == at(2025, 12, 5, 14) and r.end == at(2025, 12, 5, 15)


def test_full_width_digits(now):
    (r,) = when("１２月５日の１４時半", now)
    assert r.start == at(2025, 12, 5, 14, 30)


def test_day_after_tomorrow_and_tomorrow(now):
    assert when("あさって空いてますか", now)[0].start == at(2025, 11, 28)
    r = when("明日の午前中", now)[0]
    assert (r.start, r.end) == (at(2025, 11, 27, 9), at(2025, 11, 27, 12))


def test_afternoon_two_oclock(now):
    assert when("明日の午後2時", now)[0].start == at(2025, 11, 27, 14)


def test_bare_time_is_today_or_tomorrow(now):
    assert when("14時半はどうですか", now)[0].start == at(2025, 11, 26, 14, 30)
    assert when("9時はどうですか", now)[0].start == at(2025, 11, 27, 9)


def test_past_date_means_next_year(now):
    assert when("1月15日(水)の14時〜", now)[0].start == at(2026, 1, 15, 14)


def test_leap_day_is_safe(now):
    # 2026 and 2027 have no 29 February: the next one is 2028
    assert when("2月29日", now)[0].start == at(2028, 2, 29)
    leap_now = datetime(2028, 2, 29, 12, 0, tzinfo=TOKYO)
    assert when("来週の月曜", leap_now)[0].start == at(2028, 3, 6)
    assert when("明日", leap_now)[0].start == at(2028, 3, 1)


def test_end_of_month(now):
    (r,) = when("月末に相談したい", now)
    assert r.start == at(2025, 11, 26) and r.end == at(2025, 12, 1)


def test_mornings_any_day(now):
    rs = when("午前中ならいつでも大丈夫です", now)
    assert len(rs) == 5
    assert all(r.start.hour == 9 and r.end.hour == 12 and r.start.weekday() < 5 for r in rs)


def test_weekday_evenings(now):
    rs = when("平日の夕方がいいです", now)
    assert len(rs) == 5 and all(r.start.hour == 16 and r.start.weekday() < 5 for r in rs)


def test_hiragana_next_monday_morning(now):
    (r,) = when("よやく したいです らいしゅう げつようび ごぜん", now)
    assert r.start == at(2025, 12, 1, 9)


def test_durations_are_not_dates(now):
    assert when("ここ3日くらい姿を見てない", now) == []
    assert when("2時間おきに起きてる", now) == []


def test_analyze_uses_now_and_naive_now_is_tokyo():
    naive = datetime(2025, 11, 26, 10, 0)
    a = analyze("明日の10時に予約したい", now=naive)
    assert a.when[0].start == at(2025, 11, 27, 10)
    utc = datetime(2025, 11, 26, 16, 0, tzinfo=ZoneInfo("UTC"))  # = 27th 01:00 JST
    assert analyze("明日", now=utc).when[0].start == at(2025, 11, 28)


def test_english_tomorrow_2pm(now):
    assert when("Can I come tomorrow 2pm?", now)[0].start == at(2025, 11, 27, 14)
