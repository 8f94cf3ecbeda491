"""The whole hand-off through the LINE webhook, the real NLU and worker, and the console."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from common.clock import TOKYO
from handlers.content import load_pack
from handlers.hours import format_next_open, is_business_day, next_open
from storage.models import Case, Message
from tests.staff.conftest import add_staff, audit_actions, login, post_form

pytest.importorskip("nlu")

RESIDENT = "U" + "e" * 32


def only_case(svc) -> Case:
    with svc.factory() as session:
        return session.scalars(select(Case)).one()


def next_business_day() -> date:
    """The console stamps staff replies with the real time, so the worker's clock is set to
    a chosen hour of a day ahead of it (a reply queued 'now' is then due)."""
    day = datetime.now(TOKYO).date() + timedelta(days=1)
    while not is_business_day(day, load_pack()):
        day += timedelta(days=1)
    return day


def test_urgent_message_to_claim_reply_mute_and_close(client, svc, say, worker, clock,
                                                      fake_line):
    clock.now = datetime.combine(next_business_day(), time(10, 0), tzinfo=TOKYO)  # in hours
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
    assert len(fake_line.calls) == before, \
        "in hours the bot stays quiet while a person has the case"
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
    assert fake_line.all_texts()[-1] == load_pack().text("closing")
    assert only_case(svc).status == "closed"

    before = len(fake_line.calls)
    say("窓口の受付時間を教えてください", user=RESIDENT)
    assert len(fake_line.calls) > before, "after closing, the bot answers again"
    assert {"claim", "view_case", "reply", "close"} <= set(audit_actions(svc, case.id))


def test_out_of_hours_a_claimed_case_acknowledges_once_then_stays_quiet(
        client, svc, say, worker, clock, fake_line):
    evening = datetime.combine(next_business_day(), time(19, 0), tzinfo=TOKYO)  # after 17時
    clock.now = evening
    say("もう死にたいです。毎日つらくて消えたい", user=RESIDENT)
    case = only_case(svc)
    add_staff(svc, "sato")
    login(client, "sato")
    assert post_form(client, f"/staff/cases/{case.id}/claim").status_code == 302

    clock.advance(minutes=30)
    before = len(fake_line.calls)
    say("まだですか？今夜どうしたらいいか不安です", user=RESIDENT)
    texts = [t for call in fake_line.calls[before:] for t in call.texts]
    assert len(texts) == 1, "out of hours the resident hears once that the message arrived"
    reads_at = format_next_open(next_open(evening, load_pack()))
    assert reads_at in texts[0] and "24時間" in texts[0], "when a person reads it; a line open now"

    clock.advance(minutes=30)
    before = len(fake_line.calls)
    say("眠れません", user=RESIDENT)
    assert len(fake_line.calls) == before, "only once in the same closed period"
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "今夜どうしたらいいか不安です" in page and "眠れません" in page


def test_asking_for_a_person_opens_a_case_that_staff_see(client, svc, say):
    say("職員の人と話したいです", user=RESIDENT)
    add_staff(svc, "sato")
    login(client, "sato")
    ids = re.findall(r'data-case="(\d+)"', client.get("/staff").get_data(as_text=True))
    assert len(ids) == 1
    assert only_case(svc).opened_reason == "human"
