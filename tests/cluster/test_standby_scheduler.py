"""A standby scheduler on PostgreSQL: when the leader is killed (SIGKILL), the standby takes
the leader lock within 30 s and check-ins keep going out, none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from common.clock import TOKYO
from storage import checkins, crypto, residents
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from tests.cluster.test_cluster import ROOT, pg_url
from tests.conftest import _KEYS, install_test_keys

__all__ = ["pg_url"]
pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="leader election uses PostgreSQL"
)
HOUSEHOLDS = 3


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(predicate, timeout: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if predicate():
            return time.monotonic() - began
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


def is_leader(log: Path) -> bool:
    return log.exists() and "this process is the leader" in log.read_text(errors="replace")


def test_standby_takes_over_within_30_s_and_no_check_in_is_lost_or_doubled(
    pg_url, fake_line, tmp_path
):
    install_test_keys()  # the same keys as the processes below
    engine = make_engine(pg_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    # Check-ins one minute apart, starting two minutes from now (Tokyo time, whole minutes).
    first = (datetime.now(UTC) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    users = [f"U{n:032d}" for n in range(HOUSEHOLDS)]
    with transaction(factory) as session:
        for n, user in enumerate(users):
            resident = residents.get_or_create(
                session, resident_key=crypto.resident_key("line", user), channel="line",
                user_id=user, now=datetime.now(UTC))
            at = (first + timedelta(minutes=n)).astimezone(TOKYO)
            checkins.enrol(session, resident, checkins.Schedule.every(1, at.time(), at.date()),
                           consent_by="本人", consent_at=datetime.now(UTC),
                           now=datetime.now(UTC), quiet=None)
    engine.dispose()

    env = dict(os.environ, DATABASE_URL=pg_url, SECRET_KEY="k",
               PSEUDONYM_KEY=_KEYS["pseudonym"], ENCRYPTION_KEYS=_KEYS["encryption"],
               LINE_CHANNEL_SECRET="s", LINE_CHANNEL_ACCESS_TOKEN="t",
               LINE_API_ENDPOINT=fake_line.url, LOG_LEVEL="INFO", PYTHONPATH=str(ROOT))
    logs = [tmp_path / "scheduler-a.log", tmp_path / "scheduler-b.log"]
    leader = start([sys.executable, "-m", "bot", "scheduler"], env, logs[0])
    procs = [leader]
    try:
        wait_for(lambda: is_leader(logs[0]), 60, "the first scheduler leading")
        standby = start([sys.executable, "-m", "bot", "scheduler"], env, logs[1])
        worker = start([sys.executable, "-m", "bot", "worker"], env, tmp_path / "worker.log")
        procs += [standby, worker]
        time.sleep(8)
        assert not is_leader(logs[1])  # one leader at a time

        wait_for(lambda: len(fake_line.calls) >= 1, 200, "the first check-in")
        os.kill(leader.pid, signal.SIGKILL)
        took_over = wait_for(lambda: is_leader(logs[1]), 30, "the standby taking over")
        wait_for(lambda: len(fake_line.calls) >= HOUSEHOLDS, 240, "every check-in")
        time.sleep(35)  # one more sweep: nothing is sent again
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
    assert took_over < 30
    assert sorted(c.to for c in fake_line.calls) == sorted(users)
    check = create_engine(pg_url)
    with check.connect() as conn:
        sent = conn.execute(text("SELECT count(*) FROM checkins WHERE sent_at IS NOT NULL"))
        assert sent.scalar_one() == HOUSEHOLDS
    check.dispose()
