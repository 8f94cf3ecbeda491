"""Urgent messages: the first reply gives the right numbers, whatever else is going on."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers import registry
from handlers.replies import Reply
from storage import conversation
from storage.models import Case, Message, Resident
from tests.conversation.conftest import joined


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("父が倒れて意識がない", ["119"]),
        ("隣の家の子どもが毎晩叩かれて泣き叫んでいる", ["189", "110"]),
        ("夫に殴られていて怖いです", ["110", "#8008", "0120-279-889"]),
        ("もう死にたい。消えてしまいたい", ["0570-783-556", "0120-279-338"]),
    ],
)
def test_first_reply_gives_the_numbers_for_the_situation(chat, text, numbers):
    first = chat.say(text)[0]
    assert "今すぐ、次の番号に" in first.split("\n")[0]  # a reporter is thanked instead
    for number in numbers:
        assert number in first
    # the most important number comes first
    assert first.index(numbers[0]) == min(first.index(n) for n in numbers)


def test_suicidal_thoughts_name_the_lines_in_plain_words(chat):
    first = chat.say("もう死にたい。消えてしまいたい")[0]
    assert "いのちの電話" in first and "よりそいホットライン" in first
    assert "119" in first  # with the note about self-harm injuries


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
    assert "#8008" in texts[0] and "FAKE FLOW" not in joined(texts)
    # the flow is still there afterwards (its buttons keep working)
    assert chat.state().flow == "fake"


def test_urgent_is_answered_even_when_a_person_has_claimed_the_case(chat):
    chat.say("人と話したい")
    with chat.svc.factory() as session, session.begin():
        case = session.scalars(select(Case)).one()
        case.status = "claimed"
    assert chat.say("ありがとうございます、明日また連絡します") == []  # the person answers
    texts = chat.say("もう死にたい")
    assert "0570-783-556" in texts[0]
    [case] = chat.cases()
    assert case.priority == "urgent" and case.status == "claimed"
