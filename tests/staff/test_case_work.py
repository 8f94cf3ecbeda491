"""Working a case in the console: claim, read (masked), answer in the resident's chat,
note, refer until confirmed, close with an outcome — each step audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import Message, Outbox
from tests.staff.conftest import (
    add_staff,
    audit_actions,
    get_case,
    login,
    open_case_for,
    post_form,
)

USER = "U" + "a" * 32
SECRET_TEXT = "山田花子です。電話は090-1234-5678です。母の介護で限界です"
MASKED = "［氏名］です。電話は［電話番号］です。母の介護で限界です"


def deliver(worker, clock) -> None:
    """The worker's clock started with the test; the console acted in real time since."""
    clock.advance(minutes=1)
    worker.deliver()


def claimed_case(svc, client, username="sato"):
    add_staff(svc, username)
    login(client, username)
    case_id = open_case_for(svc, USER, SECRET_TEXT, masked=MASKED, priority="high")
    assert post_form(client, f"/staff/cases/{case_id}/claim").status_code == 302
    return case_id


def test_queue_lists_cases_by_priority_then_waiting_time(client, svc, clock):
    add_staff(svc, "sato")
    login(client, "sato")
    normal_old = open_case_for(svc, "U" + "1" * 32, "相談です", now=clock.now)
    clock.advance(minutes=5)
    urgent = open_case_for(svc, "U" + "2" * 32, "助けて", priority="urgent", reason="urgent",
                           now=clock.now)
    clock.advance(minutes=5)
    normal_new = open_case_for(svc, "U" + "3" * 32, "相談です", now=clock.now)
    page = client.get("/staff").get_data(as_text=True)
    order = [int(x) for x in re.findall(r'data-case="(\d+)"', page)]
    assert order == [urgent, normal_old, normal_new]


def test_queue_filters_by_topic_status_and_window(client, svc):
    add_staff(svc, "sato")
    login(client, "sato")
    care = open_case_for(svc, "U" + "1" * 32, "介護", topics=("elderly_care",))
    money = open_case_for(svc, "U" + "2" * 32, "お金", topics=("living_hardship",))
    ids = lambda html: {int(x) for x in re.findall(r'data-case="(\d+)"', html)}  # noqa: E731
    assert ids(client.get("/staff?topic=living_hardship").get_data(as_text=True)) == {money}
    post_form(client, f"/staff/cases/{care}/claim")
    assert ids(client.get("/staff?status=new").get_data(as_text=True)) == {money}
    assert ids(client.get("/staff?status=claimed").get_data(as_text=True)) == {care}
    windows = _window_ids()
    post_form(client, f"/staff/cases/{care}/referrals", {"window_id": windows[0]},
              token_from=f"/staff/cases/{care}")
    assert ids(client.get(f"/staff?window={windows[0]}").get_data(as_text=True)) == {care}


def _window_ids() -> list[str]:
    from handlers.content import load_pack

    return [a.id for a in load_pack().agencies]


def test_case_page_shows_masked_text_and_a_summary_so_nobody_asks_again(client, svc):
    case_id = claimed_case(svc, client)
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert MASKED in page
    assert "090-1234-5678" not in page and "山田花子" not in page
    assert "高齢・介護" in page  # topic label in the summary card
    assert "view_case" in audit_actions(svc, case_id)


def test_revealing_personal_data_is_a_deliberate_audited_click(client, svc):
    case_id = claimed_case(svc, client)
    assert "reveal_pii" not in audit_actions(svc, case_id)
    post_form(client, f"/staff/cases/{case_id}/reveal", token_from=f"/staff/cases/{case_id}")
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert "090-1234-5678" in page
    assert "reveal_pii" in audit_actions(svc, case_id)
    post_form(client, f"/staff/cases/{case_id}/hide", token_from=f"/staff/cases/{case_id}")
    assert "090-1234-5678" not in client.get(f"/staff/cases/{case_id}").get_data(as_text=True)


def test_every_view_of_the_messages_is_audited_with_who_and_which_case(client, svc):
    case_id = claimed_case(svc, client)
    client.get(f"/staff/cases/{case_id}")
    client.get(f"/staff/cases/{case_id}/messages?after=0")
    with svc.factory() as session:
        from storage.models import AuditEntry

        views = list(session.scalars(select(AuditEntry).where(
            AuditEntry.case_id == case_id,
            AuditEntry.action.in_(("view_case", "view_messages")))))
    assert len(views) == 2
    assert all(v.staff_id is not None and v.created_at is not None for v in views)
    assert all("090" not in (v.detail or "") for v in views)  # never the text itself


def test_polling_returns_only_newer_messages(client, svc):
    case_id = claimed_case(svc, client)
    with svc.factory() as session:
        last = session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1))
    assert client.get(f"/staff/cases/{case_id}/messages?after={last}").get_data(
        as_text=True).strip() == ""
    open_case_for(svc, USER, "追加で書きます", masked="追加で書きます")
    fragment = client.get(f"/staff/cases/{case_id}/messages?after={last}").get_data(as_text=True)
    assert "追加で書きます" in fragment and MASKED not in fragment


def test_staff_reply_is_delivered_to_the_resident_on_line(client, svc, worker, fake_line,
                                                          clock):
    case_id = claimed_case(svc, client)
    response = post_form(client, f"/staff/cases/{case_id}/reply",
                         {"text": "担当の佐藤です。お話を聞かせてください。"},
                         token_from=f"/staff/cases/{case_id}")
    assert response.status_code == 302
    deliver(worker, clock)
    assert fake_line.texts_to(USER) == ["担当の佐藤です。お話を聞かせてください。"]
    assert fake_line.calls[0].kind == "push"  # no fresh reply token from the resident
    case = get_case(svc, case_id)
    assert case.status == "waiting" and case.first_response_at is not None
    with svc.factory() as session:
        sent = session.scalar(select(Message).where(Message.sender == "staff"))
        assert sent.case_id == case_id and sent.staff_id == case.assignee_id
    assert "reply" in audit_actions(svc, case_id)


def test_only_the_owner_can_reply(client, svc, app, fake_line, worker, clock):
    case_id = claimed_case(svc, client)
    add_staff(svc, "tanaka")
    other = app.test_client()
    login(other, "tanaka")
    post_form(other, f"/staff/cases/{case_id}/reply", {"text": "横から失礼します"},
              token_from=f"/staff/cases/{case_id}")
    deliver(worker, clock)
    assert fake_line.calls == []
    with svc.factory() as session:
        assert session.scalar(select(Outbox)) is None


def test_second_claimer_is_told_who_has_the_case(client, svc, app):
    case_id = claimed_case(svc, client)
    add_staff(svc, "tanaka")
    other = app.test_client()
    login(other, "tanaka")
    response = post_form(other, f"/staff/cases/{case_id}/claim")
    page = other.get(response.headers["Location"]).get_data(as_text=True)
    assert "satoさん" in page and "すでに" in page
    assert get_case(svc, case_id).assignee_id is not None
    assert "claim_lost" in audit_actions(svc, case_id)


def test_notes_are_kept_with_the_case(client, svc):
    case_id = claimed_case(svc, client)
    post_form(client, f"/staff/cases/{case_id}/notes", {"text": "長男と同居。来週家庭訪問予定"},
              token_from=f"/staff/cases/{case_id}")
    assert "長男と同居。来週家庭訪問予定" in client.get(f"/staff/cases/{case_id}").get_data(
        as_text=True)
    assert "note" in audit_actions(svc, case_id)


def test_referral_stays_unconfirmed_with_its_age_until_the_window_confirms(client, svc, clock):
    case_id = claimed_case(svc, client)
    window = _window_ids()[0]
    post_form(client, f"/staff/cases/{case_id}/referrals",
              {"window_id": window, "note": "介護保険の申請支援"},
              token_from=f"/staff/cases/{case_id}")
    listing = client.get("/staff/referrals").get_data(as_text=True)
    assert f"/staff/cases/{case_id}" in listing and "受理を確認" in listing
    from storage.models import Referral

    with svc.factory() as session:
        referral = session.scalar(select(Referral))
        assert referral.status == "sent"
    post_form(client, f"/staff/referrals/{referral.id}/confirm", token_from="/staff/referrals")
    with svc.factory() as session:
        referral = session.get(Referral, referral.id)
        assert referral.status == "confirmed" and referral.confirmed_at is not None
    assert "未確認の紹介はありません" in client.get("/staff/referrals").get_data(as_text=True)
    assert {"refer", "referral_confirmed"} <= set(audit_actions(svc, case_id))


def test_referral_to_a_window_not_in_the_pack_is_refused(client, svc):
    case_id = claimed_case(svc, client)
    post_form(client, f"/staff/cases/{case_id}/referrals", {"window_id": "nowhere"},
              token_from=f"/staff/cases/{case_id}")
    from storage.models import Referral

    with svc.factory() as session:
        assert session.scalar(select(Referral)) is None


def test_closing_sends_a_short_closing_message_and_records_the_outcome(
        client, svc, worker, fake_line, clock):
    case_id = claimed_case(svc, client)
    response = post_form(client, f"/staff/cases/{case_id}/close", {"outcome": "resolved"},
                         token_from=f"/staff/cases/{case_id}")
    assert response.status_code == 302
    case = get_case(svc, case_id)
    assert (case.status, case.outcome) == ("closed", "resolved")
    assert case.closed_at is not None
    deliver(worker, clock)
    from handlers.content import load_pack

    assert fake_line.texts_to(USER) == [load_pack().text("closing")]
    assert "close" in audit_actions(svc, case_id)


def test_closing_needs_one_of_the_five_outcome_codes(client, svc):
    case_id = claimed_case(svc, client)
    post_form(client, f"/staff/cases/{case_id}/close", {"outcome": "whatever"},
              token_from=f"/staff/cases/{case_id}")
    assert get_case(svc, case_id).status == "claimed"


def test_closing_with_watch_enrols_the_household_for_checkins(client, svc):
    case_id = claimed_case(svc, client)
    post_form(client, f"/staff/cases/{case_id}/close", {
        "outcome": "watching", "watch": "y", "watch_weekdays": ["0", "3"],
        "watch_time": "10:00", "watch_consent_by": "本人"}, token_from=f"/staff/cases/{case_id}")
    case = get_case(svc, case_id)
    assert case.status == "closed" and case.watch_requested
    assert case.watch_enrolled_at is not None
    from storage import checkins
    from storage.models import Resident

    with svc.factory() as session:
        resident = session.get(Resident, case.resident_id)
        enrolment = checkins.current_enrolment(session, resident.id)
        assert enrolment is not None


def test_watch_without_consent_keeps_the_case_open(client, svc):
    case_id = claimed_case(svc, client)
    post_form(client, f"/staff/cases/{case_id}/close", {
        "outcome": "watching", "watch": "y", "watch_weekdays": ["0"], "watch_time": "10:00",
        "watch_consent_by": ""}, token_from=f"/staff/cases/{case_id}")
    assert get_case(svc, case_id).status == "claimed"


def test_release_returns_the_case_to_the_queue(client, svc):
    case_id = claimed_case(svc, client)
    post_form(client, f"/staff/cases/{case_id}/release", token_from=f"/staff/cases/{case_id}")
    case = get_case(svc, case_id)
    assert case.status == "new" and case.assignee_id is None
