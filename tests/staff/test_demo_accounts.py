"""The demo's known-password accounts live only in the embedded SQLite demo: never seeded
into another database, never accepted outside the demo, and `web` will not start beside
them. `create-staff` after `make run` works on the demo with the demo's own secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import DEV_SECRETS, ConfigError, _dev_secrets
from bot.demo import DEMO_STAFF, demo_accounts_present, seed_demo
from bot.services import build_services
from storage.db import make_engine, transaction
from storage.migrate import upgrade
from storage.models import StaffUser
from storage.staff import create_staff, verify_password
from tests.conftest import _KEYS, ACCESS_TOKEN, CHANNEL_SECRET, make_config
from tests.staff.conftest import audit_actions, login

REPO = Path(__file__).resolve().parents[2]
SERVER_DB = "postgresql+psycopg://madoguchi@db.city.example/madoguchi"


def _usernames(svc) -> list[str]:
    with svc.factory() as session:
        return list(session.scalars(select(StaffUser.username)))


def test_the_demo_seeds_its_accounts_into_the_embedded_sqlite_database(svc):
    assert svc.config.embedded_demo
    lines = seed_demo(svc)
    assert any("admin / madoguchi-admin" in line for line in lines)
    assert sorted(_usernames(svc)) == ["admin", "demo"]


@pytest.mark.parametrize("settings", [
    {"database_url": SERVER_DB},  # `make run` with DATABASE_URL set
    {"dev_mode": False},  # a production configuration
], ids=["server database", "not development"])
def test_demo_accounts_are_never_seeded_into_another_database(db, fake_line, settings):
    svc = build_services(make_config(fake_line.url, **settings), engine=db.engine)
    with pytest.raises(ConfigError, match="create-staff"):
        seed_demo(svc)
    assert _usernames(svc) == []


def test_a_demo_password_opens_nothing_outside_the_demo(make_app, svc):
    app = make_app(dev_mode=False)
    app.config["SESSION_COOKIE_SECURE"] = False  # the test client speaks plain http
    with transaction(svc.factory) as session:
        for username, password, role, _name in DEMO_STAFF:
            create_staff(session, username, password, role)
    client = app.test_client()
    assert login(client, "admin", "madoguchi-admin").status_code == 401
    assert client.get("/staff").status_code == 302
    assert "login_failed" in audit_actions(svc)


def test_a_demo_account_with_a_new_password_is_an_ordinary_account(make_app, svc):
    app = make_app(dev_mode=False)
    app.config["SESSION_COOKIE_SECURE"] = False
    with transaction(svc.factory) as session:
        create_staff(session, "admin", "a password of the city's own", "admin")
    assert demo_accounts_present(build_services(make_config("", dev_mode=False),
                                                engine=svc.engine)) == []
    assert login(app.test_client(), "admin", "a password of the city's own").status_code == 302


def _web_environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (
        "MADOGUCHI_DEV", "SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS", "DATABASE_URL")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="s" * 32, PSEUDONYM_KEY=_KEYS["pseudonym"],
               ENCRYPTION_KEYS=_KEYS["encryption"], LINE_CHANNEL_SECRET=CHANNEL_SECRET,
               LINE_CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN, PYTHONPATH=str(REPO), LOG_LEVEL="WARNING",
               METRICS_TOKEN="m" * 32)
    return env


def test_web_refuses_to_start_while_demo_accounts_are_in_its_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(build_services(make_config("", database_url=url), engine=engine).factory
                     ) as session:
        create_staff(session, "admin", "madoguchi-admin", "admin")

    def start_web() -> subprocess.CompletedProcess[str]:
        # What gunicorn does first (--preload): import the app.
        return subprocess.run([sys.executable, "-c", "import bot.wsgi"], cwd=tmp_path,
                              env=_web_environment(url), capture_output=True, text=True,
                              timeout=120)

    refused = start_web()
    assert refused.returncode == 2, refused.stderr
    assert "demo account(s) admin" in refused.stderr
    with transaction(build_services(make_config("", database_url=url), engine=engine).factory
                     ) as session:
        admin = session.scalar(select(StaffUser).where(StaffUser.username == "admin"))
        admin.active = False
    started = start_web()
    assert started.returncode == 0, started.stderr
    engine.dispose()


def test_create_staff_after_make_run_uses_the_demo_secrets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    secrets = _dev_secrets()  # what `python -m bot all` wrote on its first start
    assert (tmp_path / DEV_SECRETS).exists()
    engine = make_engine(f"sqlite:///{tmp_path / 'instance' / 'madoguchi.db'}")
    upgrade(engine)
    env = {k: v for k, v in os.environ.items() if k not in (
        "MADOGUCHI_DEV", "SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS", "DATABASE_URL")}
    env.update(PYTHONPATH=str(REPO), LOG_FORMAT="text")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "create-staff", "--username", "tanaka",
         "--password", "tanaka-password", "--role", "admin"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "created admin tanaka" in done.stdout
    assert "ENCRYPTION_KEYS" in done.stderr  # says which secrets it borrowed
    with make_engine(f"sqlite:///{tmp_path / 'instance' / 'madoguchi.db'}").connect() as conn:
        [row] = conn.execute(select(StaffUser.password_hash, StaffUser.role)
                             .where(StaffUser.username == "tanaka")).all()
    assert row.role == "admin"
    assert verify_password(StaffUser(password_hash=row.password_hash), "tanaka-password")
    assert _dev_secrets() == secrets  # nothing regenerated
    engine.dispose()


def test_create_staff_without_the_demo_still_asks_for_the_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in (
        "MADOGUCHI_DEV", "SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS", "DATABASE_URL")}
    env.update(PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "create-staff", "--username", "x", "--password", "y" * 8],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "missing required setting(s)" in done.stderr
    assert not (tmp_path / DEV_SECRETS).exists()
