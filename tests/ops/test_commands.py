"""`python -m bot rotate-keys` and `python -m bot retention` as an operator runs them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bot.cli import main
from storage import crypto, residents
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import AuditEntry, InboundEvent, Resident, utcnow
from tests.conftest import _KEYS, install_test_keys


@pytest.fixture
def database(tmp_path: Path, monkeypatch) -> Iterator[str]:
    """A migrated SQLite file with one resident and one old raw event, and the environment."""
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    engine = make_engine(url)
    upgrade(engine)
    install_test_keys()
    with transaction(make_session_factory(engine)) as session:
        residents.get_or_create(session, resident_key=crypto.resident_key("line", "U9"),
                                channel="line", user_id="U" + "9" * 32, now=utcnow())
        old = utcnow() - timedelta(days=90)
        session.add(InboundEvent(channel="line", event_id="old", event_type="message",
                                 resident_key="k", payload={"t": 1}, received_at=old,
                                 status="done", attempts=1, processed_at=old))
    engine.dispose()
    for name, value in {"DATABASE_URL": url, "SECRET_KEY": "s",
                        "PSEUDONYM_KEY": _KEYS["pseudonym"],
                        "ENCRYPTION_KEYS": _KEYS["encryption"]}.items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    yield url
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    install_test_keys()


def test_rotate_keys_reencrypts_under_the_new_first_key(database, monkeypatch, capsys):
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("ENCRYPTION_KEYS", f"{new},{_KEYS['encryption']}")
    main(["rotate-keys", "--batch-size", "1"])
    out = capsys.readouterr().out
    assert "residents.channel_user_id: 1 re-encrypted" in out
    assert "inbound_events.payload: 1 re-encrypted" in out
    main(["rotate-keys"])
    assert "0 re-encrypted, 2 already current" in capsys.readouterr().out
    crypto.configure([new], _KEYS["pseudonym"])
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        assert session.scalars(select(Resident)).one().channel_user_id == "U" + "9" * 32
    engine.dispose()


def test_rotate_keys_fails_loudly_when_a_value_opens_with_no_key(database, monkeypatch, capsys):
    monkeypatch.setenv("ENCRYPTION_KEYS", Fernet.generate_key().decode())
    with pytest.raises(SystemExit) as exit_code:
        main(["rotate-keys"])
    assert exit_code.value.code == 1
    assert "readable with none of ENCRYPTION_KEYS" in capsys.readouterr().err


def test_retention_applies_the_policy_once_and_says_what_it_did(database, monkeypatch, capsys):
    monkeypatch.setenv("EVENT_RETENTION_DAYS", "60")
    main(["retention"])
    assert "events_deleted=1" in capsys.readouterr().out
    engine = make_engine(database)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM inbound_events")) == 0
    with make_session_factory(engine)() as session:
        assert session.scalars(select(AuditEntry.action)).all() == ["retention"]
    engine.dispose()


def test_retention_refuses_a_period_that_is_not_a_number(database, monkeypatch, capsys):
    monkeypatch.setenv("RETENTION_DAYS", "one year")
    with pytest.raises(SystemExit) as exit_code:
        main(["retention"])
    assert exit_code.value.code == 2
    assert "RETENTION_DAYS must be a whole number" in capsys.readouterr().err
