"""Slack hand-off: a card for each new case, Claim in Slack claims in the database, thread
replies reach the resident on LINE, requests are verified and retries acted on once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.staff import notices
from scheduler.jobs import sla
from storage.models import Outbox
from storage.models.handoff import CaseNotification, SlackThread
from tests.staff.conftest import CHANNEL, SIGNING_SECRET, add_staff, get_case, open_case_for

RESIDENT = "U" + "c" * 32
SLACK_SATO = "USATO0001"


def eventually(check, timeout: float = 10.0):
    """Slack listeners work after the answer (lazy listeners): wait for their effect."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def send_notices(slack_svc, now=None) -> int:
    """What the worker does each round: send the queued case notices to Slack."""
    consumer = notices.for_services(slack_svc)
    if now is not None:
        consumer.clock = lambda: now
    return consumer.deliver()


def sweep(slack_svc, now=None) -> None:
    sla.run(slack_svc, now=now)
    send_notices(slack_svc, now)


def signed(body: bytes, at: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    stamp = str(at or int(time.time()))
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def press_claim(client, case_id: int, slack_user: str, **sign_kw):
    payload = {"type": "block_actions", "user": {"id": slack_user}, "team": {"id": "T0001"},
               "api_app_id": "A0001", "token": "legacy", "trigger_id": "1.2.3",
               "channel": {"id": CHANNEL}, "container": {"type": "message"},
               "actions": [{"action_id": "case_claim", "block_id": "b1", "type": "button",
                            "value": str(case_id), "action_ts": "1"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return client.post("/slack/events", data=body, headers={
        **signed(body, **sign_kw), "Content-Type": "application/x-www-form-urlencoded"})


def thread_reply(client, thread_ts: str, slack_user: str, text: str, event_id: str,
                 retry: int | None = None):
    envelope = {"type": "event_callback", "team_id": "T0001", "api_app_id": "A0001",
                "event_id": event_id, "event_time": int(time.time()),
                "event": {"type": "message", "user": slack_user, "text": text,
                          "ts": f"{time.time():.6f}", "thread_ts": thread_ts,
                          "channel": CHANNEL, "channel_type": "channel"}}
    body = json.dumps(envelope).encode()
    headers = {**signed(body), "Content-Type": "application/json"}
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return client.post("/slack/events", data=body, headers=headers)


def outbox_rows(slack_svc) -> int:
    with slack_svc.factory() as session:
        return session.scalar(select(func.count()).select_from(Outbox))


def new_case_with_card(slack_svc, fake_slack) -> tuple[int, str]:
    case_id = open_case_for(slack_svc, RESIDENT, "山田です。090-1111-2222。もう限界です",
                            masked="［氏名］です。［電話番号］。もう限界です",
                            priority="urgent", reason="urgent", topics=("mental_health",))
    sweep(slack_svc)
    with slack_svc.factory() as session:
        thread = session.get(SlackThread, case_id)
    return case_id, thread.ts


def test_a_new_case_posts_a_masked_card_with_a_claim_button(slack_svc, fake_slack):
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    [post] = fake_slack.of("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    assert post.authorization == "Bearer xoxb-test"
    blocks = json.dumps(post.args["blocks"], ensure_ascii=False)
    assert "［電話番号］" in blocks and "090-1111-2222" not in blocks and "山田" not in blocks
    assert "こころの健康" in blocks and "緊急" in blocks
    assert '"action_id": "case_claim"' in blocks and f'"value": "{case_id}"' in blocks
    sweep(slack_svc)  # a second sweep does not post it again
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_card_is_not_posted_inside_the_residents_transaction(slack_svc, fake_slack):
    open_case_for(slack_svc, RESIDENT, "相談です")
    assert fake_slack.calls == []  # only the worker (after commit) talks to Slack
    sla.run(slack_svc)
    assert fake_slack.calls == []  # the sweep queues; it does not send
    send_notices(slack_svc)
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_claim_in_slack_claims_in_the_database_and_updates_the_card(
        slack_svc, slack_client, fake_slack):
    staff_id = add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    case_id, _ = new_case_with_card(slack_svc, fake_slack)
    assert press_claim(slack_client, case_id, SLACK_SATO).status_code == 200
    case = eventually(lambda: (c := get_case(slack_svc, case_id)).status == "claimed" and c)
    assert case.status == "claimed" and case.assignee_id == staff_id
    assert fake_slack.of("chat.update") == []  # not from the request: the worker sends it
    send_notices(slack_svc)
    [update] = fake_slack.of("chat.update")
    blocks = json.dumps(update.args["blocks"], ensure_ascii=False)
    assert "satoさん" in blocks and "case_claim" not in blocks


def test_a_second_claim_in_slack_is_refused_and_told(slack_svc, slack_client, fake_slack):
    add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    other = add_staff(slack_svc, "tanaka", slack_user_id="UTANAKA01")
    case_id, _ = new_case_with_card(slack_svc, fake_slack)
    press_claim(slack_client, case_id, "UTANAKA01")
    assert eventually(lambda: get_case(slack_svc, case_id).assignee_id == other)
    press_claim(slack_client, case_id, SLACK_SATO)
    [told] = eventually(lambda: fake_slack.of("chat.postEphemeral"))
    assert get_case(slack_svc, case_id).assignee_id == other
    assert told.args["user"] == SLACK_SATO and "tanakaさん" in told.args["text"]


def test_a_slack_user_without_a_staff_account_cannot_claim(slack_svc, slack_client, fake_slack):
    case_id, _ = new_case_with_card(slack_svc, fake_slack)
    press_claim(slack_client, case_id, "USTRANGER")
    [told] = eventually(lambda: fake_slack.of("chat.postEphemeral"))
    assert get_case(slack_svc, case_id).status == "new"
    assert "紐付いていません" in told.args["text"]


def test_requests_with_a_bad_signature_or_an_old_timestamp_are_rejected(
        slack_svc, slack_client, fake_slack):
    add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    case_id, _ = new_case_with_card(slack_svc, fake_slack)
    assert press_claim(slack_client, case_id, SLACK_SATO,
                       secret="not-the-secret").status_code == 401
    six_minutes_ago = int(time.time()) - 6 * 60
    assert press_claim(slack_client, case_id, SLACK_SATO,
                       at=six_minutes_ago).status_code == 401
    assert get_case(slack_svc, case_id).status == "new"


def test_thread_reply_reaches_the_resident_on_line_once_despite_retries(
        slack_svc, slack_client, fake_slack, fake_line, worker, clock):
    add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    press_claim(slack_client, case_id, SLACK_SATO)
    assert eventually(lambda: get_case(slack_svc, case_id).status == "claimed")
    text = "まどぐちの佐藤です。いまお話しできますか。"
    assert thread_reply(slack_client, ts, SLACK_SATO, text, "Ev0001").status_code == 200
    assert eventually(lambda: outbox_rows(slack_svc) == 1)
    assert thread_reply(slack_client, ts, SLACK_SATO, text, "Ev0001", retry=1
                        ).status_code == 200
    time.sleep(0.3)  # the retry's listener has had its chance to (wrongly) relay again
    assert outbox_rows(slack_svc) == 1
    clock.advance(minutes=1)
    worker.deliver()
    assert fake_line.texts_to(RESIDENT) == [text]
    case = get_case(slack_svc, case_id)
    assert case.status == "waiting" and case.first_response_at is not None


def test_thread_reply_from_someone_else_is_not_relayed(
        slack_svc, slack_client, fake_slack):
    add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    add_staff(slack_svc, "tanaka", slack_user_id="UTANAKA01")
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    press_claim(slack_client, case_id, SLACK_SATO)
    assert eventually(lambda: get_case(slack_svc, case_id).status == "claimed")
    thread_reply(slack_client, ts, "UTANAKA01", "横から失礼します", "Ev0002")
    told = eventually(lambda: fake_slack.of("chat.postEphemeral"))[-1]
    assert outbox_rows(slack_svc) == 0
    assert "相談者には送信されていません" in told.args["text"]


def test_replying_in_the_thread_of_an_unclaimed_case_claims_it_first(
        slack_svc, slack_client, fake_slack):
    staff_id = add_staff(slack_svc, "sato", slack_user_id=SLACK_SATO)
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    thread_reply(slack_client, ts, SLACK_SATO, "担当します。", "Ev0003")
    case = eventually(lambda: (c := get_case(slack_svc, case_id)).status == "waiting" and c)
    assert case.assignee_id == staff_id and case.status == "waiting"


def test_resident_messages_are_copied_masked_into_the_thread(slack_svc, fake_slack):
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    open_case_for(slack_svc, RESIDENT, "鈴木の番号は080-0000-1111です",
                  masked="［氏名］の番号は［電話番号］です")
    sweep(slack_svc)
    texts = [c.args.get("text", "") for c in fake_slack.of("chat.postMessage")
             if c.args.get("thread_ts") == ts]
    assert any("［氏名］の番号は［電話番号］です" in t for t in texts)
    assert not any("080-0000-1111" in t for t in texts)


def test_escalation_mentions_the_supervisors(slack_svc, fake_slack, clock):
    add_staff(slack_svc, "boss", role="admin", slack_user_id="UBOSS0001", supervisor=True)
    case_id, ts = new_case_with_card(slack_svc, fake_slack)
    sweep(slack_svc, now=get_case(slack_svc, case_id).created_at + timedelta(minutes=16))
    texts = [c.args.get("text", "") for c in fake_slack.of("chat.postMessage")
             if c.args.get("thread_ts") == ts]
    assert any("<@UBOSS0001>" in t and "未対応" in t for t in texts)


def test_slack_being_down_keeps_the_notice_for_a_later_retry(slack_svc, fake_slack, clock):
    open_case_for(slack_svc, RESIDENT, "相談です")
    fake_slack.fail_next(500)
    sweep(slack_svc)
    with slack_svc.factory() as session:
        notice = session.scalar(select(CaseNotification))
        assert notice.status == "pending" and notice.attempts == 1
        retry_at = notice.next_attempt_at
    assert fake_slack.of("chat.postMessage") == []
    assert send_notices(slack_svc) == 0  # not yet due
    assert send_notices(slack_svc, now=retry_at + timedelta(seconds=1)) == 1
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_without_slack_settings_the_endpoint_does_not_exist(client):
    assert client.post("/slack/events", data=b"{}").status_code == 404
