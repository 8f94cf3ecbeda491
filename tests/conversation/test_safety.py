"""Urgent messages: the first reply gives the right numbers, whatever else is going on."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from common.clock import TOKYO
from handlers import registry
from handlers.replies import Reply
from storage import conversation
from storage.models import Case, Message, Resident
from tests.conversation.conftest import joined


def numbers_in(bubble: str) -> list[str]:
    """The phone numbers of a bubble's lines, in order (「・name：number（hours）」)."""
    return [line.split("：")[1].split("（")[0] for line in bubble.splitlines()
            if line.startswith("・") and "：" in line]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("父が倒れて意識がない", ["119"]),
        ("隣の家の子どもが毎晩叩かれて泣き叫んでいる", ["189", "110"]),
        ("夫に殴られていて怖いです", ["110", "0120-279-889"]),
        ("もう死にたい。消えてしまいたい", ["0120-279-338", "119"]),
        ("薬をたくさん飲んでしまった", ["119", "0120-279-338"]),
        ("同居の息子が認知症の母を叩いている", ["110"]),
    ],
)
def test_first_reply_gives_the_numbers_for_the_situation_most_important_first(
        chat, text, numbers):
    first = chat.say(text)[0]
    assert "今すぐ、次の番号に" in first.split("\n")[0]  # a reporter is thanked instead
    assert numbers_in(first)[:len(numbers)] == numbers


def test_the_first_bubble_holds_only_the_numbers_open_now(chat):
    texts = chat.say("もう死にたい。消えてしまいたい")
    assert numbers_in(texts[0]) == ["0120-279-338", "119"]
    # いのちの電話 and the 統一ダイヤル, whose hours we do not know, come after
    assert "0570-783-556" in texts[1] and "0570-064-556" in texts[1]
    assert "119番" in texts[1]  # with the note about self-harm injuries
    assert "いのちの電話" not in texts[0]


def test_elder_abuse_is_sent_to_the_centre_and_the_city_not_to_189(chat):
    texts = chat.say("同居の息子が認知症の母を叩いている")
    assert "189" not in joined(texts)
    assert "地域包括支援センター" in texts[1] and "046-873-1111" in texts[1]


def test_an_urgent_message_opens_an_urgent_case_and_asks_consent_after_the_numbers(chat):
    texts = chat.say("父が倒れて意識がない")
    [case] = chat.cases()
    assert (case.opened_reason, case.priority, case.status) == ("urgent", "urgent", "new")
    assert case.urgent_reason and "health" in case.topics
    assert case.about == "family" and case.consent == "asked"
    assert "119" in texts[0] and "同意" not in texts[0]
    assert chat.button_data() == [f"consent:yes:{case.id}", f"consent:no:{case.id}"]
    with chat.svc.factory() as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).one()
        assert inbound.case_id == case.id  # staff see what was written


def test_urgent_takes_precedence_over_a_flow_in_progress(chat, monkeypatch):
    def fake_flow(turn):  # a flow that would claim every message
        return [Reply("FAKE FLOW")]

    monkeypatch.setitem(registry.FLOWS_REGISTRY.flows, "fake", fake_flow)
    with chat.svc.factory() as session, session.begin():
        chat.say("こんにちは")
        resident = session.scalars(select(Resident)).one()
        conversation.enter(conversation.load(session, resident.id, chat.worker.clock()),
                           "fake", "step", chat.worker.clock())
    assert chat.say("明日の10時でお願いします") == ["FAKE FLOW"]
    texts = chat.say("夫に殴られていて怖いです")
    assert "0120-279-889" in texts[0] and "FAKE FLOW" not in joined(texts)
    # the flow is still there afterwards (its buttons keep working)
    assert chat.state().flow == "fake"


def test_urgent_is_answered_even_when_a_person_has_claimed_the_case(chat):
    chat.say("人と話したい")
    with chat.svc.factory() as session, session.begin():
        case = session.scalars(select(Case)).one()
        case.status = "claimed"
    assert chat.say("ありがとうございます、明日また連絡します") == []  # the person answers
    texts = chat.say("もう死にたい")
    assert "0120-279-338" in texts[0]
    [case] = chat.cases()
    assert case.priority == "urgent" and case.status == "claimed"


def test_a_consultation_about_dv_at_night_names_a_24_hour_dv_line_not_110(chat, clock):
    clock.now = datetime(2026, 6, 9, 2, 0, tzinfo=TOKYO)
    texts = chat.say("夫の束縛がひどくてつらいです")
    assert "DV相談＋（プラス）：0120-279-889" in joined(texts)
    # not urgent: no 110; #8008's hours vary, so not at night
    assert "110" not in joined(texts) and "#8008" not in joined(texts)


def test_a_young_carer_is_given_the_24_hour_line_for_children(chat):
    texts = chat.say("中2です。母の介護をしていて学校に行けません")
    assert "24時間子供SOSダイヤル：0120-0-78310" in joined(texts)
