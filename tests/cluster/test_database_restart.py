"""PostgreSQL restarted under load: the webhook answers 503 (LINE redelivers), workers wait,
and once the database is back every event is processed exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.cluster.test_cluster import (
    _wait_drained,
    _wait_up,
    free_port,
    pg_url,
    post,
    start_cluster,
)
from tests.conftest import line_event

__all__ = ["pg_url"]  # the fixture, shared with the cluster test

PG_VERSIONS = sorted(os.listdir("/etc/postgresql")) if Path("/etc/postgresql").is_dir() else []
pytestmark = pytest.mark.skipif(
    not (os.environ.get("TEST_DATABASE_URL") and shutil.which("pg_ctlcluster") and PG_VERSIONS
         and os.geteuid() == 0),
    reason="needs the local PostgreSQL cluster and the right to restart it",
)
EVENTS = 300


def restart_postgres() -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSIONS[-1], "main",
                    "restart", "--mode", "fast"], check=True, timeout=120)


def test_postgres_restart_during_load_loses_and_doubles_nothing(pg_url, fake_line):
    port = free_port()
    cluster = start_cluster(pg_url, fake_line.url, port, workers=1)
    statuses: list[int] = []
    try:
        _wait_up(port)

        def send() -> None:
            for n in range(EVENTS):
                # post() redelivers on 503 or a refused connection, as LINE does.
                statuses.append(post(port, line_event("text", user=f"U{n % 30:032d}",
                                                      text=f"相談です {n}")))
                time.sleep(0.01)

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(1.5)
        restart_postgres()
        sender.join()
        engine = create_engine(pg_url, pool_pre_ping=True)
        _wait_drained(engine, EVENTS)
        with engine.connect() as conn:
            done = conn.execute(text(
                "SELECT count(*) FROM inbound_events WHERE status = 'done'")).scalar_one()
            inbound = conn.execute(text(
                "SELECT count(*) FROM messages WHERE direction = 'in'")).scalar_one()
            sends = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
        engine.dispose()
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        cluster.wait(timeout=60)
    assert statuses == [200] * EVENTS
    assert done == EVENTS and inbound == EVENTS
    assert len(fake_line.calls) == sends
