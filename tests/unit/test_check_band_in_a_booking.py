"""A booking that asked for a date: a bare date is the answer, even when the risk reader put
it in the check band; a date with other words still gets the plain question."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from handlers.inbound import TEXT, Inbound
from handlers.postback import encode
from handlers.replies import Reply
from nlu.analysis import TimeRange
from tests.unit.conftest import OFFICE_HOURS, Talk, reading

ASKED = "今、あなたや誰かの命や安全が危ない状態ですか"


def _in_a_booking(session) -> Talk:
    talk = Talk(session, OFFICE_HOURS)
    talk.says("予約したい", intent="book")
    talk.taps(encode("booking", "win", "east_center"))
    return talk


def says_in_check_band(talk: Talk, text: str, date_text: str) -> list[Reply]:
    start = OFFICE_HOURS + timedelta(days=1, hours=4)
    when = [TimeRange(start=start, end=start + timedelta(hours=1), text=date_text)]
    analysis = replace(reading(text, when=when), risk="check", risk_score=0.3)
    inbound = Inbound(kind=TEXT, channel="line", user_id=talk.user, occurred_at=talk.now,
                      text=text)
    return talk._turn(inbound, analysis)


def test_a_bare_date_in_a_booking_is_the_answer_not_a_check(session):
    talk = _in_a_booking(session)
    replies = says_in_check_band(talk, "6/10の14時です", "6/10の14時")
    assert not any(ASKED in r.text for r in replies)


def test_a_date_with_other_words_still_gets_the_question(session):
    talk = _in_a_booking(session)
    replies = says_in_check_band(talk, "明日までもたないかも", "明日")
    assert any(ASKED in r.text for r in replies)
