"""The rules of the conversation (handlers/dispatch.py), one per test, without GiNZA or HTTP."""

from __future__ import annotations

from datetime import time, timedelta

from handlers.menu import MAIN_MENU
from handlers.postback import encode
from handlers.registry import FLOWS_REGISTRY, Registry
from handlers.replies import Reply
from storage import cases, checkins
from storage.models import CaseNote, Checkin
from tests.unit.conftest import OFFICE_HOURS, Talk, copy, texts


def test_a_new_friend_is_welcomed_with_the_main_menu(resident):
    replies = resident.follows()
    assert replies[0].text == copy("welcome")
    assert replies[-1].quick_replies == MAIN_MENU


def test_danger_is_answered_with_the_numbers_first_then_an_urgent_case(resident):
    replies = resident.says("母が倒れて動かない", urgent_kind="medical", topics=("health",))
    first = replies[0].text
    assert first.startswith(copy("urgent_intro")) and "119" in first
    assert copy("urgent_staff_open") in texts(replies)
    [case] = resident.cases()
    assert (case.priority, case.opened_reason) == ("urgent", "urgent")
    assert resident.last_message.case_id == case.id  # staff see the words that opened it


def test_danger_is_answered_even_while_a_person_holds_the_case(resident):
    resident.says("人と話したい", intent="human")
    [case] = resident.cases()
    assert cases.claim(resident.session, case.id, None, OFFICE_HOURS).won
    replies = resident.says("もう死にたい", urgent_kind="suicide", topics=("suicide_risk",))
    assert replies and replies[0].text.startswith(copy("urgent_intro"))
    assert resident.cases()[0].priority == "urgent"  # the same case, raised


def test_while_a_person_holds_the_case_the_bot_is_quiet_and_files_the_message(resident):
    resident.says("人と話したい", intent="human")
    [case] = resident.cases()
    cases.claim(resident.session, case.id, None, OFFICE_HOURS)
    cases.record_staff_reply(case, OFFICE_HOURS)  # staff wrote: waiting for the resident
    assert resident.says("ありがとうございます。実は母のことで", intent="consult") == []
    assert resident.last_message.case_id == case.id
    assert case.status == "claimed"  # back with its owner


def test_asking_for_a_person_opens_a_case_and_asks_consent_once(resident):
    first = resident.says("人と話したい", intent="human")
    assert first[0].text == copy("handoff_received_generic")
    assert first[-1].text == copy("consent_explanation")
    assert first[-1].quick_replies[0].data == encode("consent", "yes", resident.cases()[0].id)
    again = resident.says("やっぱり人と話したい", intent="human")
    assert copy("consent_explanation") not in texts(again)
    assert len(resident.cases()) == 1  # joined, not a second case


def test_not_understood_twice_in_a_row_reaches_a_person(resident):
    first = resident.says("ほげほげ", intent="greeting")
    # no dead end: the consult path (thanks, the 町名 question, a person one tap away)
    assert [r.text for r in first] == [copy("consult_ack_unplaced"), copy("ask_town")]
    assert resident.cases() == []
    second = resident.says("ふがふが", intent="greeting")
    assert second[0].text == copy("handoff_received_generic")
    assert resident.cases()[0].opened_reason == "not_understood"


def test_a_button_nobody_knows_is_answered_with_the_main_menu(resident):
    assert resident.taps("nosuchflow:1") == [Reply(copy("button_expired"), MAIN_MENU)]


def test_a_consent_button_for_someone_elses_case_changes_nothing(session, resident):
    other = Talk(session, OFFICE_HOURS, user="U" + "b" * 32)
    other.says("人と話したい", intent="human")
    [their_case] = other.cases()
    replies = resident.taps(encode("consent", "yes", their_case.id))
    assert texts(replies) == [copy("consent_case_gone")]
    assert their_case.consent == "asked"


def test_stickers_get_a_request_to_write(resident):
    from handlers.inbound import Inbound

    sticker = Inbound(kind="sticker", channel="line", user_id=resident.user,
                      occurred_at=OFFICE_HOURS)
    assert texts(resident._turn(sticker, None)) == [copy("please_write_text")]


def test_a_worried_checkin_answer_opens_a_high_priority_case_with_a_note(session, resident):
    enrolment = checkins.enrol(session, resident.resident,
                               checkins.Schedule.weekly((1,), time(10, 0)), consent_by="本人",
                               consent_at=OFFICE_HOURS, now=OFFICE_HOURS)
    checkin = Checkin(enrolment_id=enrolment.id, resident_id=resident.resident.id,
                      due_at=OFFICE_HOURS - timedelta(minutes=5), status="sent",
                      sent_at=OFFICE_HOURS - timedelta(minutes=5), created_at=OFFICE_HOURS)
    session.add(checkin)
    session.flush()
    resident.taps(encode("checkin", "uneasy", checkin.id))
    [case] = resident.cases()
    assert (case.priority, case.opened_reason) == ("high", "checkin")
    notes = session.query(CaseNote.text).filter(CaseNote.case_id == case.id).all()
    assert notes == [("見守り: 「少し不安」と返答がありました。",)]
    assert checkin.case_id == case.id


def test_flows_are_routed_through_the_registry_they_are_given(session):
    flows = Registry(postbacks=dict(FLOWS_REGISTRY.postbacks))

    @flows.intent("faq")
    def always(turn):
        return [Reply("from the test registry")]

    talk = Talk(session, OFFICE_HOURS, flows=flows)
    assert texts(talk.says("ゴミの出し方", intent="faq")) == ["from the test registry"]
    assert "always" not in [f.__name__ for f in FLOWS_REGISTRY.intents.values()]
