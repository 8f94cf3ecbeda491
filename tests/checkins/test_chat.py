"""見守り in chat, through the LINE webhook, the real NLU and the worker: enrolling oneself,
typed answers while a check-in is open, and stopping."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Case, Checkin, CheckinEnrolment
from tests.checkins.conftest import USER, sweep, tokyo
from tests.conftest import line_event, post_events


def _press(client, worker, data: str) -> None:
    post_events(client, line_event("postback", user=USER, data=data))
    worker.drain()


def _buttons(call) -> list[str]:
    return [i["action"]["data"] for i in call.messages[-1]["quickReply"]["items"]]


def _enrolment(svc) -> CheckinEnrolment | None:
    with svc.factory() as session:
        return session.scalars(select(CheckinEnrolment)).one_or_none()


def _enrol_in_chat(client, worker, say) -> None:
    say("見守りを申し込みたい", user=USER)
    _press(client, worker, "checkin:enrol:yes")


def test_asking_for_mimamori_explains_it_and_asks_for_consent(svc, say, fake_line):
    say("見守りを申し込みたいです", user=USER)
    call = fake_line.calls[-1]
    assert "お返事がないとき" in call.texts[0] and "相談員" in call.texts[0]
    assert _buttons(call) == ["checkin:enrol:yes", "checkin:enrol:no"]
    assert _enrolment(svc) is None  # nothing without consent


def test_consenting_enrols_with_a_consent_record_and_a_schedule(svc, client, worker, say,
                                                               fake_line, clock):
    _enrol_in_chat(client, worker, say)
    enrolment = _enrolment(svc)
    assert enrolment.status == "active" and enrolment.consent_at == clock()
    assert "本人" in enrolment.consent_by
    assert (enrolment.weekdays, enrolment.at_time) == ([0, 3], "10:00")
    assert enrolment.next_due_at == tokyo(2, 10)
    assert "毎週月・木曜 10時" in fake_line.calls[-1].texts[0]


def test_the_resident_can_choose_how_often(svc, client, worker, say, fake_line):
    _enrol_in_chat(client, worker, say)
    _press(client, worker, "checkin:plan:daily")
    assert _enrolment(svc).weekdays == [0, 1, 2, 3, 4, 5, 6]
    assert "毎日10時" in fake_line.calls[-1].texts[0]


def test_declining_enrols_nothing(svc, client, worker, say):
    say("見守りを申し込みたい", user=USER)
    _press(client, worker, "checkin:enrol:no")
    assert _enrolment(svc) is None


def test_a_typed_genki_desu_answers_the_open_checkin(svc, client, worker, say, fake_line, clock):
    _enrol_in_chat(client, worker, say)
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    say("元気です", user=USER)
    with svc.factory() as session:
        checkin = session.scalars(select(Checkin)).one()
    assert (checkin.status, checkin.answer) == ("answered", "ok")
    assert "安心しました" in fake_line.calls[-1].texts[0]


def test_a_typed_unwell_answer_opens_a_high_priority_case(svc, client, worker, say, fake_line,
                                                          clock):
    _enrol_in_chat(client, worker, say)
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    say("熱があってしんどいです", user=USER)
    with svc.factory() as session:
        checkin = session.scalars(select(Checkin)).one()
        case = session.scalars(select(Case)).one()
    assert checkin.answer == "unwell" and checkin.case_id == case.id
    assert (case.opened_reason, case.priority) == ("checkin", "high")


def test_genki_desu_with_no_checkin_open_is_left_to_other_flows(svc, client, worker, say,
                                                                fake_line):
    _enrol_in_chat(client, worker, say)
    say("元気です", user=USER)
    assert "安心しました" not in fake_line.calls[-1].texts[0]


def test_an_urgent_message_while_a_checkin_is_open_makes_an_urgent_case(
        svc, client, worker, say, fake_line, clock):
    _enrol_in_chat(client, worker, say)
    clock.now = tokyo(2, 10)
    sweep(svc, clock)
    say("もう死にたい", user=USER)
    clock.now = tokyo(2, 10, 5)
    sweep(svc, clock)
    with svc.factory() as session:
        checkin = session.scalars(select(Checkin)).one()
        case = session.scalars(select(Case)).one()
    assert checkin.answer == "urgent" and case.priority == "urgent"
    assert checkin.status == "answered"


def test_stopping_mimamori_in_chat_asks_first_then_ends_it(svc, client, worker, say, fake_line):
    _enrol_in_chat(client, worker, say)
    say("見守りをやめたい", user=USER)
    assert _buttons(fake_line.calls[-1]) == ["checkin:end:yes", "checkin:end:no"]
    assert _enrolment(svc).status == "active"
    _press(client, worker, "checkin:end:yes")
    assert _enrolment(svc).status == "ended"
