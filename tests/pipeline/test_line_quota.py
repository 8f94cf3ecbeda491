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


def push(svc, clock, text: str) -> None:
    with transaction(svc.factory) as session:
        who = residents.get_or_create(session, resident_key=resident_key("line", USER),
                                      channel="line", user_id=USER, now=clock())
        outbox.enqueue(session, who, [Reply(text)], now=clock())  # no token: a push


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
    assert line_quota.PUSH_USED._value.get() == 8


def test_an_unlimited_plan_reads_as_no_limit(svc, fake_line):
    quota = line_quota.run(svc)
    assert quota.limit is None and not quota.running_out


def test_a_monthly_limit_429_fails_at_once_instead_of_retrying_for_a_day(
        svc, worker, fake_line, clock):
    fake_line.push_limit = 0
    push(svc, clock, "届かないお知らせ")
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
