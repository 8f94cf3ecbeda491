"""nlu/when.py on the date test set (tests/dates/dates.toml): dates as residents write them."""

from __future__ import annotations

from tests.dates.evaluate import correct, load, madoguchi, score


def test_the_set_has_at_least_150_expressions():
    assert len(load()[1]) >= 150


def test_when_reads_at_least_97_percent_of_the_set():
    ok, n, wrong = score(madoguchi)
    assert ok / n >= 0.97, wrong


def test_every_ambiguous_hour_is_flagged_to_be_asked():
    now, rows = load()
    for text, _, hour in rows:
        if hour == -2:
            assert madoguchi(text, now).ambiguous, text
        elif hour >= 0:
            assert not madoguchi(text, now).ambiguous, text


def test_kanji_numerals_and_parts_of_the_day():
    now, rows = load()
    for text in ("十二月三日", "二十日", "十二月三日の午後二時", "明日の昼過ぎ", "来週あたり",
                 "月末"):
        day, hour = next((d, h) for t, d, h in rows if t == text)
        assert correct(madoguchi(text, now), day, hour), text


def test_numbers_that_are_not_dates_give_nothing():
    now, rows = load()
    for text, day, hour in rows:
        if day == "":
            assert correct(madoguchi(text, now), day, hour), text
