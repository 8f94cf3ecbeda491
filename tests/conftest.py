"""Shared fixtures: a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
a fake LINE API on loopback, the Flask app and a worker wired to them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, text

from bot.config import Config
from bot.services import Services, build_services
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Base
from tests.fakes.line_server import FakeLine

CHANNEL_SECRET = "test-channel-secret"
ACCESS_TOKEN = "test-access-token"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@dataclass
class Database:
    backend: str
    engine: Engine

    def clear(self) -> None:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as conn:
            if self.backend == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))


def _postgres_engine(schema: str) -> Engine:
    url = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(scope="session", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Database]:
    """One migrated database per backend for the whole run; tables are emptied per test."""
    install_test_keys()
    if request.param == "postgresql":
        schema = f"test_{uuid.uuid4().hex[:12]}"
        engine = _postgres_engine(schema)
    else:
        path: Path = tmp_path_factory.mktemp("db") / "madoguchi.db"
        engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield Database(request.param, engine)
    if request.param == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    yield database
    database.clear()


_KEYS = {"encryption": Fernet.generate_key().decode(), "pseudonym": "test-pseudonym-key"}


def install_test_keys() -> None:
    from storage import crypto

    crypto.configure([_KEYS["encryption"]], _KEYS["pseudonym"])


def make_config(line_endpoint: str, **overrides: Any) -> Config:
    values: dict[str, Any] = dict(
        database_url="sqlite://",
        secret_key="test-secret-key",
        pseudonym_key=_KEYS["pseudonym"],
        encryption_keys=[_KEYS["encryption"]],
        line_channel_secret=CHANNEL_SECRET,
        line_channel_access_token=ACCESS_TOKEN,
        line_api_endpoint=line_endpoint,
        simulator_enabled=True,
        dev_mode=True,
    )
    values.update(overrides)
    return Config(**values)


@pytest.fixture(scope="session")
def fake_line_server() -> Iterator[FakeLine]:
    server = FakeLine().start()
    yield server
    server.stop()


@pytest.fixture
def fake_line(fake_line_server: FakeLine) -> Iterator[FakeLine]:
    fake_line_server.reset()
    yield fake_line_server
    fake_line_server.reset()


@pytest.fixture
def svc(db: Database, fake_line: FakeLine) -> Services:
    services = build_services(make_config(fake_line.url), engine=db.engine)
    services.ready.set()
    return services


@pytest.fixture
def app(svc: Services) -> Any:
    from bot.app import create_app

    application = create_app(svc=svc)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class Clock:
    """An injectable clock, starting now, moved by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(svc: Services, clock: Clock) -> Any:
    from bot.worker import Worker

    return Worker(svc.factory, svc.channels, clock=clock, worker_id="test-worker")


# -- LINE webhook helpers ------------------------------------------------------


def sign(body: bytes, secret: str = CHANNEL_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def line_event(
    kind: str = "text", *, user: str = "U0000000000000000000000000000001", text: str = "こんにちは",
    event_id: str | None = None, reply_token: str | None = None, data: str | None = None,
    params: dict[str, str] | None = None, timestamp_ms: int | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "mode": "active",
        "timestamp": timestamp_ms or int(datetime.now(UTC).timestamp() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
    }
    if kind in ("text", "sticker", "image", "location"):
        event["type"] = "message"
        event["replyToken"] = reply_token or uuid.uuid4().hex
        if kind == "text":
            event["message"] = {"type": "text", "id": uuid.uuid4().hex[:18], "text": text,
                                "quoteToken": "q"}
        elif kind == "sticker":
            event["message"] = {"type": "sticker", "id": "1", "packageId": "446",
                                "stickerId": "1988", "stickerResourceType": "STATIC",
                                "quoteToken": "q"}
        elif kind == "image":
            event["message"] = {"type": "image", "id": "2", "quoteToken": "q",
                                "contentProvider": {"type": "line"}}
        else:
            event["message"] = {"type": "location", "id": "3", "latitude": 35.29,
                                "longitude": 139.58, "address": "逗子市"}
    elif kind == "postback":
        event["type"] = "postback"
        event["replyToken"] = reply_token or uuid.uuid4().hex
        event["postback"] = {"data": data or "", "params": params or {}}
    elif kind == "follow":
        event["type"] = "follow"
        event["replyToken"] = reply_token or uuid.uuid4().hex
        event["follow"] = {"isUnblocked": False}
    else:
        event["type"] = kind
    return event


def post_events(client: Any, *events: dict[str, Any], signature: str | None = None) -> Any:
    body = json.dumps({"destination": "Uxxxxxxxx", "events": list(events)},
                      ensure_ascii=False).encode("utf-8")
    return client.post(
        "/callback/line", data=body, content_type="application/json",
        headers={"X-Line-Signature": signature if signature is not None else sign(body)},
    )


@pytest.fixture
def say(client: Any, worker: Any) -> Any:
    """Send one text as a LINE user through the webhook and let the worker answer it."""

    def _say(text: str, user: str = "U0000000000000000000000000000001", **kw: Any) -> Any:
        response = post_events(client, line_event("text", user=user, text=text, **kw))
        assert response.status_code == 200
        worker.drain()
        return response

    return _say
