"""Slack as a channel that residents cannot abuse and staff can rely on: resident markup is
inert, staff markup reaches LINE as plain text, the button is answered before any database
work, a resident's deletion reaches Slack, and a notice Slack refuses does not block others."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select, text

from bot.services import build_services
from bot.worker import Worker
from storage.models import Case, Resident
from storage.models.handoff import CaseNotification
from tests.conftest import line_event, make_config, post_events
from tests.staff.conftest import CHANNEL, SIGNING_SECRET, add_staff, get_case, open_case_for
from tests.staff.test_slack import (
    RESIDENT,
    SLACK_SATO,
    eventually,
    new_case_with_card,
    outbox_rows,
    press_claim,
    send_notices,
    signed,
    sweep,
)


def thread_event(client, thread_ts: str, user: str, text: str, event_id: str, **extra):
    envelope = {"type": "event_callback", "team_id": "T0001", "api_app_id": "A0001",
                "event_id": event_id, "event_time": int(time.time()),
                "event": {"type": "message", "user": user, "text": text,
                          "ts": f"{time.time():.6f}", "thread_ts": thread_ts,
                          "channel": CHANNEL, "channel_type": "channel", **extra}}
    body = json.dumps(envelope).encode()
    return client.post("/slack/events", data=body,
                       headers={**signed(body), "Content-Type": "application/json"})


def claimed_case(slack_svc, slack_client, fake_slack) -> tuple[int, str]:
    add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    press_claim(slack_client, case_id, SLACK_SATO)
    assert eventually(lambda: get_case(slack_svc, case_id).status == "claimed")
    return case_id, ts


# -- resident text is inert in Slack ---------------------------------------------------


INJECTION = "<!channel> <@U0ADMIN01> 詳しくは <https://evil.example|逗子市役所> & こちら"


def test_resident_markup_reaches_slack_inert(slack_svc, fake_slack):
    open_case_for(slack_svc, RESIDENT, INJECTION, masked=INJECTION)
    sweep(slack_svc)
    open_case_for(slack_svc, RESIDENT, INJECTION, masked=INJECTION)
    sweep(slack_svc)
    [card, relayed] = fake_slack.of("chat.postMessage")
    for shown in (json.dumps(card.args["blocks"], ensure_ascii=False), relayed.args["text"]):
        assert "<!channel>" not in shown and "<@U0ADMIN01>" not in shown
        assert "<https://evil.example|" not in shown
        assert "&lt;!channel&gt;" in shown and "&amp; こちら" in shown


# -- staff replies ------------------------------------------------------------------------


def test_slack_markup_reaches_the_resident_as_plain_text(
        slack_svc, slack_client, fake_slack, fake_line, worker, clock):
    case_id, ts = claimed_case(slack_svc, slack_client, fake_slack)
    markup = ("<@USATO0001> から失礼します。手続き &amp; 窓口は "
              "<https://www.city.zushi.kanagawa.jp/|市のサイト> をご覧ください &lt;無料&gt;")
    thread_event(slack_client, ts, SLACK_SATO, markup, "EvPlain1")
    assert eventually(lambda: outbox_rows(slack_svc) == 1)
    clock.advance(minutes=1)
    worker.deliver()
    assert fake_line.texts_to(RESIDENT) == [
        "satoさん から失礼します。手続き & 窓口は 市のサイト "
        "(https://www.city.zushi.kanagawa.jp/) をご覧ください <無料>"]


def test_a_reply_also_sent_to_the_channel_is_relayed(
        slack_svc, slack_client, fake_slack, fake_line, worker, clock):
    case_id, ts = claimed_case(slack_svc, slack_client, fake_slack)
    thread_event(slack_client, ts, SLACK_SATO, "明日お電話します。", "EvBroad1",
                 subtype="thread_broadcast")
    assert eventually(lambda: outbox_rows(slack_svc) == 1)
    clock.advance(minutes=1)
    worker.deliver()
    assert fake_line.texts_to(RESIDENT) == ["明日お電話します。"]


def test_staff_are_told_that_a_file_is_not_relayed(
        slack_svc, slack_client, fake_slack, fake_line, worker, clock):
    case_id, ts = claimed_case(slack_svc, slack_client, fake_slack)
    thread_event(slack_client, ts, SLACK_SATO, "資料です", "EvFile1", subtype="file_share",
                 files=[{"id": "F1", "name": "案内.pdf"}])
    told = eventually(lambda: fake_slack.of("chat.postEphemeral"))
    assert "添付ファイルは相談者に送信されません" in told[-1].args["text"]
    assert told[-1].args["thread_ts"] == ts
    clock.advance(minutes=1)
    worker.deliver()
    assert fake_line.texts_to(RESIDENT) == ["資料です"]  # the words still go


# -- the three-second answer --------------------------------------------------------------


def test_the_claim_button_is_answered_before_the_database_is_touched(
        slack_svc, slack_client, fake_slack, db):
    staff_id = add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    case_id, _ = new_case_with_card(slack_svc, fake_slack)
    with db.engine.connect() as blocker:
        blocker.begin()  # SQLite: the write lock; PostgreSQL: the case row below
        blocker.execute(text("UPDATE cases SET priority = priority WHERE id = :id"),
                        {"id": case_id})
        began = time.monotonic()
        assert press_claim(slack_client, case_id, SLACK_SATO).status_code == 200
        answered_in = time.monotonic() - began
        # not yet: the database work waits for the lock, after the answer
        assert blocker.execute(text("SELECT status FROM cases WHERE id = :id"),
                               {"id": case_id}).scalar() == "new"
        blocker.rollback()
    assert answered_in < 3
    assert eventually(lambda: get_case(slack_svc, case_id).assignee_id == staff_id)


# -- deletion reaches Slack ----------------------------------------------------------------


@pytest.fixture
def slack_worker(slack_svc, clock):
    from bot.staff.notices import for_services

    return Worker(slack_svc.factory, slack_svc.channels, clock=clock,
                  worker_id="test-worker", notices=for_services(slack_svc))


def test_deleting_ones_data_deletes_the_slack_card_and_thread(
        slack_svc, slack_client, fake_slack, fake_line, slack_worker, clock):
    def say(words: str) -> None:
        post_events(slack_client, line_event("text", user=RESIDENT, text=words))
        slack_worker.drain()

    say("人と話したい")
    sweep(slack_svc)
    say("山田花子です。電話は090-1234-5678です")
    sweep(slack_svc)
    with slack_svc.factory() as session:
        old_alias = session.scalars(select(Resident.alias)).one()
    assert old_alias in fake_slack.visible()
    assert len(fake_slack.messages) >= 2  # the card and the relayed message

    say("データを消したい")
    post_events(slack_client, line_event("postback", user=RESIDENT, data="delete:yes"))
    slack_worker.drain()  # handles the deletion, then sends the erase notice
    assert fake_slack.messages == {}
    assert len(fake_slack.of("chat.delete")) >= 2
    with slack_svc.factory() as session:
        [erase] = session.scalars(select(CaseNotification).where(
            CaseNotification.kind == "erase")).all()
        assert erase.status == "sent"

    say("こんにちは")
    with slack_svc.factory() as session:
        assert session.scalars(select(Resident.alias)).one() != old_alias


# -- a refused notice does not block the case --------------------------------------------


def test_a_notice_slack_refuses_is_failed_and_the_next_one_goes(slack_svc, fake_slack):
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    open_case_for(slack_svc, RESIDENT, "一通目", masked="一通目")
    sla_queue(slack_svc)
    fake_slack.fail_next("invalid_blocks")
    send_notices(slack_svc)
    open_case_for(slack_svc, RESIDENT, "二通目", masked="二通目")
    sla_queue(slack_svc)
    send_notices(slack_svc)
    with slack_svc.factory() as session:
        statuses = [n.status for n in session.scalars(
            select(CaseNotification).where(CaseNotification.kind == "message")
            .order_by(CaseNotification.id))]
    assert statuses == ["failed", "sent"]
    assert any("二通目" in (m["text"] or "") for m in fake_slack.messages.values())


def sla_queue(slack_svc) -> None:
    from scheduler.jobs import sla

    sla.run(slack_svc)


# -- relaying only a notice --------------------------------------------------------------


@pytest.fixture
def notice_only_svc(db, fake_line, fake_slack):
    services = build_services(make_config(
        fake_line.url, slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET,
        slack_channel=CHANNEL, slack_api_url=fake_slack.url, slack_relay="notice",
        public_base_url="https://madoguchi.example.jp"), engine=db.engine)
    services.ready.set()
    return services


def test_notice_only_relay_sends_no_resident_words_to_slack(notice_only_svc, fake_slack):
    case_id = open_case_for(notice_only_svc, RESIDENT, "夫から殴られています",
                            masked="夫から殴られています", priority="high")
    sweep(notice_only_svc)
    open_case_for(notice_only_svc, RESIDENT, "勤め先は駅前の〇〇商事です",
                  masked="勤め先は駅前の〇〇商事です")
    sweep(notice_only_svc)
    shown = fake_slack.visible()
    assert "殴られ" not in shown and "商事" not in shown
    link = f"https://madoguchi.example.jp/staff/cases/{case_id}"
    assert f"相談 #{case_id} に新しいメッセージがあります" in shown and link in shown
    with notice_only_svc.factory() as session:
        assert session.get(Case, case_id).status == "new"
