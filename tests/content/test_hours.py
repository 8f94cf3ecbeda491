"""Staff hours: weekdays 8:30–17:00 Asia/Tokyo; closed weekends, national holidays and 12/29–1/3."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import jpholiday
import pytest

from handlers.hours import closure_reason, format_next_open, is_business_day, is_open, next_open

TOKYO = ZoneInfo("Asia/Tokyo")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


def test_weekday_morning_is_open(pack):
    assert is_open(at("2025-06-10T10:00"), pack)  # Tuesday


def test_opens_at_half_past_eight_and_closes_at_five(pack):
    assert not is_open(at("2025-06-10T08:29"), pack)
    assert is_open(at("2025-06-10T08:30"), pack)
    assert is_open(at("2025-06-10T16:59"), pack)
    assert not is_open(at("2025-06-10T17:00"), pack)


def test_weekend_is_closed(pack):
    assert not is_open(at("2025-06-14T10:00"), pack)  # Saturday
    assert not is_open(at("2025-06-15T10:00"), pack)  # Sunday
    assert closure_reason(date(2025, 6, 14), pack) == "土日"


def test_holiday_is_closed(pack):
    culture_day = date(2025, 11, 3)  # 文化の日, a Monday
    assert jpholiday.is_holiday(culture_day)
    assert not is_open(at("2025-11-03T10:00"), pack)
    assert closure_reason(culture_day, pack) == "文化の日"


def test_substitute_holiday_is_closed(pack):
    assert not is_business_day(date(2025, 5, 6), pack)  # 振替休日


@pytest.mark.parametrize(
    "day", ["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-02", "2026-01-03"]
)
def test_new_year_closure(pack, day):
    assert not is_open(at(f"{day}T10:00"), pack)
    assert closure_reason(date.fromisoformat(day), pack) in ("年末年始", "土日")


def test_new_year_closure_on_a_weekday_is_named(pack):
    assert closure_reason(date(2025, 12, 29), pack) == "年末年始"  # Monday


def test_next_open_after_new_year_is_the_first_business_day(pack):
    assert next_open(at("2025-12-26T18:00"), pack) == at("2026-01-05T08:30")


def test_next_open_later_the_same_morning(pack):
    assert next_open(at("2025-06-10T07:00"), pack) == at("2025-06-10T08:30")


def test_next_open_after_closing_friday_is_monday(pack):
    assert next_open(at("2025-06-13T17:30"), pack) == at("2025-06-16T08:30")


def test_next_open_skips_golden_week(pack):
    assert next_open(at("2025-05-02T17:00"), pack) == at("2025-05-07T08:30")


def test_next_open_is_now_while_open(pack):
    now = at("2025-06-10T10:15")
    assert next_open(now, pack) == now


def test_utc_time_is_converted_to_tokyo(pack):
    # 2025-06-10 00:30 UTC = 09:30 JST (open); 09:00 UTC = 18:00 JST (closed)
    assert is_open(datetime(2025, 6, 10, 0, 30, tzinfo=UTC), pack)
    assert not is_open(datetime(2025, 6, 10, 9, 0, tzinfo=UTC), pack)
    result = next_open(datetime(2025, 6, 10, 9, 0, tzinfo=UTC), pack)
    assert result == at("2025-06-11T08:30") and result.utcoffset().total_seconds() == 9 * 3600


def test_naive_time_is_taken_as_tokyo_local(pack):
    assert is_open(datetime(2025, 6, 10, 10, 0), pack)


def test_format_next_open_in_japanese():
    assert format_next_open(at("2026-01-05T08:30")) == "1月5日（月）8時30分"
