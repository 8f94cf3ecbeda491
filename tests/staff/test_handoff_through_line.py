"""The whole hand-off through the LINE webhook, the real NLU and worker, and the console."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage.models import Case, Message
from tests.staff.conftest import add_staff, audit_actions, login, post_form

pytest.importorskip("nlu")

RESIDENT = "U" + "e" * 32


def only_case(svc) -> Case:
    with svc.factory() as session:
        return session.scalars(select(Case)).one()


def test_urgent_message_to_claim_reply_mute_and_close(client, svc, say, worker, clock,
                                                      fake_line):
    say("もう死にたいです。毎日つらくて消えたい", user=RESIDENT)
    case = only_case(svc)
    assert (case.priority, case.status, case.opened_reason) == ("urgent", "new", "urgent")
    assert fake_line.calls, "the resident got the emergency numbers at once"

    add_staff(svc, "sato")
    login(client, "sato")
    queue = client.get("/staff").get_data(as_text=True)
    assert f'data-case="{case.id}"' in queue and "緊急" in queue
    assert post_form(client, f"/staff/cases/{case.id}/claim").status_code == 302

    post_form(client, f"/staff/cases/{case.id}/reply",
              {"text": "まどぐちの佐藤です。いま安全な場所にいますか。"},
              token_from=f"/staff/cases/{case.id}")
    clock.advance(minutes=1)
    worker.deliver()
    assert fake_line.all_texts()[-1] == "まどぐちの佐藤です。いま安全な場所にいますか。"

    before = len(fake_line.calls)
    say("はい、家にいます。少し話を聞いてほしいです", user=RESIDENT)
    assert len(fake_line.calls) == before, "the bot stays quiet while a person has the case"
    with svc.factory() as session:
        latest = session.scalar(select(Message).where(Message.direction == "in")
                                .order_by(Message.id.desc()).limit(1))
        assert latest.case_id == case.id
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "少し話を聞いてほしいです" in page

    post_form(client, f"/staff/cases/{case.id}/close", {"outcome": "referred"},
              token_from=f"/staff/cases/{case.id}")
    clock.advance(minutes=1)
    worker.deliver()
    from handlers.content import load_pack

    assert fake_line.all_texts()[-1] == load_pack().text("closing")
    assert only_case(svc).status == "closed"

    before = len(fake_line.calls)
    say("窓口の受付時間を教えてください", user=RESIDENT)
    assert len(fake_line.calls) > before, "after closing, the bot answers again"
    assert {"claim", "view_case", "reply", "close"} <= set(audit_actions(svc, case.id))


def test_asking_for_a_person_opens_a_case_that_staff_see(client, svc, say):
    say("職員の人と話したいです", user=RESIDENT)
    add_staff(svc, "sato")
    login(client, "sato")
    ids = re.findall(r'data-case="(\d+)"', client.get("/staff").get_data(as_text=True))
    assert len(ids) == 1
    assert only_case(svc).opened_reason == "human"
