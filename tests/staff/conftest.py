"""Helpers for the hand-off tests: staff accounts, signing in through the real form (with
CSRF on), cases opened the way the conversation opens them, and a fake Slack."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.services import Services
from nlu.analysis import Analysis, TopicHit
from storage import cases, residents
from storage.crypto import resident_key
from storage.db import transaction
from storage.models import AuditEntry, Case, Message, Resident, utcnow
from storage.staff import create_staff
from tests.fakes.slack_server import FakeSlack

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def add_staff(svc: Services, username: str, role: str = "coordinator",
              slack_user_id: str | None = None, supervisor: bool = False) -> int:
    with transaction(svc.factory) as session:
        user = create_staff(session, username, PASSWORD, role, display_name=f"{username}さん")
        user.slack_user_id, user.is_supervisor = slack_user_id, supervisor
        return user.id


def csrf_token(client: Any, path: str = "/staff/login") -> str:
    page = client.get(path)
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post("/staff/login", data={"username": username, "password": password,
                                             "csrf_token": token})


def post_form(client: Any, path: str, data: dict[str, Any] | None = None,
              token_from: str = "/staff") -> Any:
    """A form post as the browser sends it: with the token its page carried."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)})


def resident_for(svc: Services, user_id: str, now: datetime | None = None) -> Resident:
    with transaction(svc.factory) as session:
        return residents.get_or_create(session, resident_key=resident_key("line", user_id),
                                       channel="line", user_id=user_id, now=now or utcnow())


def open_case_for(svc: Services, user_id: str, text: str, *, priority: str = "normal",
                  reason: str = "human", topics: tuple[str, ...] = ("elderly_care",),
                  masked: str | None = None, now: datetime | None = None,
                  urgent_reason: str | None = None,
                  evidence: dict[str, list[str]] | None = None) -> int:
    """What the conversation does on a hand-off: the inbound message, then open_case."""
    now = now or utcnow()
    resident = resident_for(svc, user_id, now)
    evidence = evidence or {t: [t] for t in topics}
    analysis = Analysis(text=text, topics=[TopicHit(t, 0.9, evidence.get(t, [])) for t in topics],
                        urgent=priority == "urgent")
    labels = analysis.to_dict()
    for private in ("text", "pii", "lemmas"):
        labels.pop(private, None)
    with transaction(svc.factory) as session:
        resident = session.get(Resident, resident.id)
        session.add(Message(resident_id=resident.id, direction="in", sender="resident",
                            kind="text", text=text, masked_text=masked or text,
                            analysis=labels, created_at=now))
        case = cases.open_case(session, resident, reason=reason, priority=priority, now=now,
                               topics=list(topics), topic_evidence=evidence,
                               urgent_reason=urgent_reason)
        return case.id


def get_case(svc: Services, case_id: int) -> Case:
    with svc.factory() as session:
        return session.get(Case, case_id)


def audit_actions(svc: Services, case_id: int | None = None) -> list[str]:
    with svc.factory() as session:
        query = select(AuditEntry.action).order_by(AuditEntry.id)
        if case_id is not None:
            query = query.where(AuditEntry.case_id == case_id)
        return list(session.scalars(query))


@pytest.fixture
def make_app(db: Any, fake_line: Any) -> Any:
    """The app on the test database with settings of the test's choosing (make_config)."""
    from bot.app import create_app
    from bot.services import build_services
    from tests.conftest import make_config

    def build(**settings: Any) -> Any:
        services = build_services(make_config(fake_line.url, **settings), engine=db.engine)
        services.ready.set()
        application = create_app(svc=services)
        application.config.update(TESTING=True)
        return application

    return build


def signed_in(app: Any, username: str, **environ: str) -> Any:
    """A test client (with environ such as HTTP_X_FORWARDED_FOR) that has signed in."""
    client = app.test_client()
    client.environ_base.update(environ)
    assert login(client, username).status_code == 302
    return client


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture
def fake_slack(fake_slack_server: FakeSlack) -> Iterator[FakeSlack]:
    fake_slack_server.reset()
    yield fake_slack_server
    fake_slack_server.reset()


# -- Slack configured (tests/staff/test_slack*.py) -------------------------------------

SIGNING_SECRET = "slack-signing-secret"
CHANNEL = "C0CASES01"


@pytest.fixture
def slack_svc(db, fake_line, fake_slack):
    from bot.services import build_services
    from tests.conftest import make_config

    services = build_services(make_config(
        fake_line.url, slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET,
        slack_channel=CHANNEL, slack_api_url=fake_slack.url), engine=db.engine)
    services.ready.set()
    return services


@pytest.fixture
def slack_client(slack_svc):
    from bot.app import create_app

    app = create_app(svc=slack_svc)
    app.config.update(TESTING=True)
    return app.test_client()


