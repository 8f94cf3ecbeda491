"""On PostgreSQL with two worker processes: a version published (and rolled back) while
they run changes what residents read within seconds, in both, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.services import build_services
from handlers.content import editing, live
from handlers.content.loader import load_pack_files
from handlers.content.versions import ensure_seeded
from storage import content as store
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.models import utcnow
from tests.conftest import _KEYS, ACCESS_TOKEN, CHANNEL_SECRET, line_event, make_config, post_events

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                reason="two worker processes need PostgreSQL")
ROOT = Path(__file__).resolve().parents[2]
NEW_ANSWER = "（改定）地域包括支援センターは市内に3か所あります。"
RESIDENTS = [f"U{n:032x}" for n in range(6)]


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"content_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def workers(pg_url, fake_line, tmp_path) -> Iterator[list[Path]]:
    env = dict(os.environ, DATABASE_URL=pg_url, SECRET_KEY="k", PSEUDONYM_KEY=_KEYS["pseudonym"],
               ENCRYPTION_KEYS=_KEYS["encryption"], LINE_CHANNEL_SECRET=CHANNEL_SECRET,
               LINE_CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN, LINE_API_ENDPOINT=fake_line.url,
               PYTHONPATH=str(ROOT))
    logs = [tmp_path / f"worker{n}.log" for n in range(2)]
    procs = [subprocess.Popen([sys.executable, "-m", "tests.content.worker_process"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
             for log in logs]
    yield logs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=30)


@pytest.fixture
def app_on(pg_url, fake_line):
    from bot.app import create_app

    engine = make_engine(pg_url)
    upgrade(engine)
    svc = build_services(make_config(fake_line.url, database_url=pg_url), engine=engine)
    ensure_seeded(svc.factory)
    application = create_app(svc=svc)
    application.config.update(TESTING=True)
    yield application, svc
    live.reset()
    engine.dispose()


def wait_for(condition, timeout: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if condition():
            return time.monotonic() - began
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def serving(logs: list[Path], number: int) -> bool:
    return all(f"content: serving version {number}\n" in log.read_text() for log in logs)


def replies_to_taps(client, fake_line, data: str) -> list[str]:
    fake_line.reset()
    for user in RESIDENTS:
        assert post_events(client, line_event("postback", user=user, data=data)).status_code == 200
    wait_for(lambda: len(fake_line.calls) >= len(RESIDENTS), 30, "the replies")
    return fake_line.all_texts()


def test_two_workers_follow_publish_and_rollback_without_a_restart(app_on, workers, fake_line):
    app, svc = app_on
    client = app.test_client()
    original = load_pack_files().faq_entry("hokatsu_where")
    wait_for(lambda: serving(workers, 1), 90, "both workers to start")
    assert replies_to_taps(client, fake_line, "faq:hokatsu_where") == [original.answer] * 6

    with transaction(svc.factory) as session:  # what the console's publish does
        payload = editing.put_faq(store.published(session).payload,
                                  {"answer": NEW_ANSWER}, "hokatsu_where")
        payload = editing.retire_faq(payload, "where_to_start", utcnow().date())
        store.add_published(session, payload, origin="console", now=utcnow())
    took = wait_for(lambda: serving(workers, 2), 10, "both workers to serve version 2")
    print(f"both workers served version 2 {took:.1f}s after publishing")
    assert replies_to_taps(client, fake_line, "faq:hokatsu_where") == [NEW_ANSWER] * 6
    not_found = load_pack_files().text("faq_not_found")
    assert replies_to_taps(client, fake_line, "faq:where_to_start") == [not_found] * 6

    with transaction(svc.factory) as session:  # rollback: a copy of version 1, published
        first = store.by_number(session, 1)
        store.add_published(session, first.payload, origin="rollback", now=utcnow(), based_on=1)
    wait_for(lambda: serving(workers, 3), 10, "both workers to serve version 3")
    assert replies_to_taps(client, fake_line, "faq:hokatsu_where") == [original.answer] * 6
    with svc.factory() as session:
        handled_by = set(session.scalars(text("SELECT DISTINCT claimed_by FROM inbound_events")))
    assert len(handled_by) == 2, "both worker processes answered residents"
