"""Out of hours (weekends, national holidays, 年末年始) the bot says when a person will read
the message — and the urgent path is just as live."""

from __future__ import annotations

from datetime import datetime

import pytest

from common.clock import TOKYO
from tests.conversation.conftest import joined


@pytest.mark.parametrize(
    ("moment", "next_open"),
    [
        (datetime(2026, 11, 23, 11, 0, tzinfo=TOKYO), "11月24日（火）8時30分"),  # 勤労感謝の日
        (datetime(2026, 12, 30, 10, 0, tzinfo=TOKYO), "1月4日（月）8時30分"),  # 年末年始
        (datetime(2027, 1, 1, 9, 0, tzinfo=TOKYO), "1月4日（月）8時30分"),  # 元日
        (datetime(2026, 6, 9, 18, 0, tzinfo=TOKYO), "6月10日（水）8時30分"),  # after 17時
    ],
)
def test_a_request_for_a_person_out_of_hours_says_when_it_is_read(chat, clock, moment,
                                                                 next_open):
    clock.now = moment
    texts = chat.say("人と話したい")
    assert any("受付時間外" in t and next_open in t for t in texts)
    assert len(chat.cases()) == 1


def test_in_office_hours_there_is_no_out_of_hours_notice(chat):
    assert not any("受付時間外" in t for t in chat.say("人と話したい"))


def test_the_urgent_path_is_live_on_a_holiday(chat, clock):
    clock.now = datetime(2027, 1, 1, 3, 0, tzinfo=TOKYO)
    texts = chat.say("父が倒れて意識がない")
    assert texts[0].splitlines()[1].endswith("：119（24時間）")  # 119 is the first number
    assert "1月4日（月）8時30分" in joined(texts[1:])  # when staff will read it, after the numbers
    assert chat.cases()[0].priority == "urgent"


def test_a_compound_situation_on_a_holiday_says_when_it_is_read(chat, clock):
    clock.now = datetime(2026, 11, 23, 11, 0, tzinfo=TOKYO)
    texts = chat.say("失業して家賃が払えず、母の介護もあってもう限界です")
    assert any("11月24日（火）8時30分" in t for t in texts)
