"""The Procfile topology on PostgreSQL, end to end: `python -m bot cluster` with 2 web
processes, 2 workers and a scheduler; 2,000 signed webhook events from 200 residents,
and one worker killed with SIGKILL in the middle of it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from tests.conftest import line_event, sign

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="the cluster runs on PostgreSQL only"
)
ROOT = Path(__file__).resolve().parents[2]
RESIDENTS = 200
MESSAGES_EACH = 10
TEXTS = [
    "こんにちは", "母の介護のことで相談したいです", "地域包括支援センターの場所を教えてください",
    "最近眠れなくて", "ありがとうございました", "子どもが学校に行けていません",
    "家賃が払えなくて困っています", "近所のおばあさんが心配です", "予約はできますか",
    "ひとりで寂しいです",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_url():
    base = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"cluster_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, pool_pre_ping=True)  # survives the restart test
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def start_cluster(pg_url: str, line_url: str, port: int, workers: int) -> subprocess.Popen:
    """`python -m bot cluster` with short leases, so a killed worker's events move on fast."""
    env = dict(os.environ, DATABASE_URL=pg_url, SECRET_KEY="k", PSEUDONYM_KEY="p",
               ENCRYPTION_KEYS=Fernet.generate_key().decode(),
               LINE_CHANNEL_SECRET="test-channel-secret", LINE_CHANNEL_ACCESS_TOKEN="t",
               LINE_API_ENDPOINT=line_url, PORT=str(port), WORKERS=str(workers),
               SCHEDULERS="1", EVENT_LEASE_SECONDS="10", SEND_LEASE_SECONDS="10",
               LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "bot", "cluster"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def children_of(pid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def post(port: int, event: dict) -> int:
    import json

    body = json.dumps({"destination": "U", "events": [event]}, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/callback/line", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Line-Signature": sign(body)})
    for _ in range(50):  # a webhook answered 503 is redelivered, as LINE does
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except OSError:
            time.sleep(0.2)
    raise AssertionError("webhook never accepted the event")


def test_cluster_handles_2000_events_exactly_once_in_order_despite_a_killed_worker(
    pg_url, fake_line
):
    port = free_port()
    cluster = start_cluster(pg_url, fake_line.url, port, workers=2)
    seq_of: dict[str, tuple[str, int]] = {}  # webhookEventId or replyToken → (user, n)
    try:
        _wait_up(port)
        users = [f"U{n:032x}" for n in range(RESIDENTS)]
        killed: list[int] = []

        def send(chunk: list[str]) -> None:
            for n in range(MESSAGES_EACH):
                for user in chunk:
                    event = line_event("text", user=user, text=TEXTS[(n + hash(user)) % 10])
                    seq_of[event["webhookEventId"]] = (user, n)
                    seq_of[event["replyToken"]] = (user, n)
                    assert post(port, event) == 200

        threads = [threading.Thread(target=send, args=(users[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(4)
        workers = [p for p, cmd in children_of(cluster.pid).items() if "bot worker" in cmd]
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)  # mid-load, no chance to clean up
        killed.append(workers[0])
        for t in threads:
            t.join()
        engine = create_engine(pg_url)
        _wait_drained(engine, RESIDENTS * MESSAGES_EACH)

        with engine.connect() as conn:
            statuses = dict(conn.execute(text(
                "SELECT status, count(*) FROM inbound_events GROUP BY status")).all())
            inbound = conn.execute(text(
                "SELECT count(*) FROM messages WHERE direction = 'in'")).scalar_one()
            sends = conn.execute(text(
                "SELECT o.idempotency_key, o.status, e.event_id FROM outbox o "
                "JOIN inbound_events e ON e.id = o.inbound_event_id")).all()
        engine.dispose()
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        cluster.wait(timeout=60)

    total = RESIDENTS * MESSAGES_EACH
    assert statuses == {"done": total}
    assert inbound == total  # every event handled once: one history row each
    assert all(status == "sent" for _, status, _ in sends)
    # Each outbox row reached LINE exactly once (the fake refuses a spent reply token and
    # answers 409 to a retry key it has seen, and records only accepted sends).
    assert len(fake_line.calls) == len(sends)
    event_of_key = {key: event_id for key, _, event_id in sends}
    for user in {u for u, _ in seq_of.values()}:
        order = []
        for call in fake_line.calls:
            if call.kind == "reply" and seq_of.get(call.reply_token, ("",))[0] == user:
                order.append(seq_of[call.reply_token][1])
            elif call.kind == "push" and call.to == user:
                order.append(seq_of[event_of_key[call.retry_key]][1])
        assert order == sorted(order), f"replies out of order for {user[:6]}…"
        assert len(set(order)) == MESSAGES_EACH


def _wait_up(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("cluster did not come up")


def _wait_drained(engine, total: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            done = conn.execute(text(
                "SELECT count(*) FROM inbound_events WHERE status IN ('done','failed')"
            )).scalar_one()
            unsent = conn.execute(text(
                "SELECT count(*) FROM outbox WHERE status IN ('pending','sending')"
            )).scalar_one()
        if done == total and unsent == 0:
            return
        time.sleep(1)
    raise AssertionError(f"not drained in {timeout}s: {done}/{total} events, {unsent} unsent")
