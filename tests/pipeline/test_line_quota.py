"""LINE's monthly push quota: read from the API, warned about before it runs out, and a
monthly-limit 429 is not retried like a rate limit."""

from __future__ import annotations

import logging

from sqlalchemy import select

from handlers.replies import Reply
from scheduler.jobs import line_quota
from storage import outbox, residents
from storage.crypto import resident_key
from storage.db import transaction
from storage.models import Outbox

USER = "U" + "9" * 32


def push(svc, clock, text: str, sender: str = "bot") -> None:
    with transaction(svc.factory) as session:
        who = residents.get_or_create(session, resident_key=resident_key("line", USER),
                                      channel="line", user_id=USER, now=clock())
        outbox.enqueue(session, who, [Reply(text)], now=clock(),  # no token: a push
                       sender=sender)


def test_the_quota_is_read_and_a_warning_logged_before_it_runs_out(
        svc, worker, fake_line, clock, caplog):
    fake_line.push_limit = 10
    for n in range(8):
        push(svc, clock, f"お知らせ{n}")
    worker.deliver()
    with caplog.at_level(logging.WARNING, logger="scheduler.jobs.line_quota"):
        quota = line_quota.run(svc)
    assert (quota.limit, quota.used, quota.remaining) == (10, 8, 2)
    assert "running out: 8 of 10" in caplog.text


def test_metrics_show_the_push_quota_for_alerting(svc, fake_line):
    from bot.observability import render_metrics

    fake_line.push_limit, fake_line.push_used = 10, 7
    text = render_metrics(svc.factory, line=svc.channels["line"]).decode()
    assert "madoguchi_line_push_limit 10.0" in text
    assert "madoguchi_line_push_used 7.0" in text


def test_an_unlimited_plan_reads_as_no_limit(svc, fake_line):
    quota = line_quota.run(svc)
    assert quota.limit is None and not quota.running_out


def test_a_monthly_limit_429_fails_at_once_instead_of_retrying_for_a_day(
        svc, worker, fake_line, clock):
    fake_line.push_limit = 0
    push(svc, clock, "届かない返信", sender="staff")  # staff may use the reserve: LINE refuses
    worker.deliver()
    with svc.factory() as session:
        row = session.scalars(select(Outbox)).one()
    assert row.status == "failed" and "monthly" in row.last_error
    assert row.attempts == 1


def test_a_rate_limit_429_is_still_retried(svc, worker, fake_line, clock):
    fake_line.fail_next(429)
    push(svc, clock, "あとで届くお知らせ")
    worker.deliver()
    with svc.factory() as session:
        assert session.scalars(select(Outbox)).one().status == "pending"


def test_when_only_the_reserve_is_left_staff_and_urgent_pushes_go_first(
        svc, worker, fake_line, clock):
    fake_line.push_limit, fake_line.push_used = 100, 97  # 3 left: the 5 % reserve
    push(svc, clock, "見守りのお知らせ")  # a bot push: held back
    with transaction(svc.factory) as session:
        who = residents.get_or_create(session, resident_key=resident_key("line", USER),
                                      channel="line", user_id=USER, now=clock())
        outbox.enqueue(session, who, [Reply("担当の佐藤です")], now=clock(), sender="staff")
        outbox.enqueue(session, who, [Reply("いますぐ相談できる窓口です")], now=clock(),
                       priority=outbox.HIGH)
    worker.deliver()
    assert fake_line.texts_to(USER) == ["担当の佐藤です", "いますぐ相談できる窓口です"]
    with svc.factory() as session:
        held = session.scalars(select(Outbox).order_by(Outbox.id)).first()
    assert held.status == "failed" and "quota" in held.last_error


def test_an_answer_to_an_urgent_message_is_queued_high(say, svc):
    say("もう死にたいです")
    say("こんにちは")
    with svc.factory() as session:
        priorities = [o.priority for o in session.scalars(select(Outbox).order_by(Outbox.id))]
    assert priorities[0] == "high" and priorities[-1] == "normal"


def test_the_dashboard_shows_this_months_push_use(client, svc, fake_line):
    from tests.staff.conftest import add_staff, login

    fake_line.push_limit, fake_line.push_used = 1000, 850
    add_staff(svc, "sato")
    login(client, "sato")
    page = client.get("/staff/dashboard").get_data(as_text=True)
    assert "LINE送信（今月）" in page and "850／1000" in page
    assert 'class="kpi warn"' in page  # past 80 %
