"""/metrics (queue depths, case counts) is for the monitoring system: outside the embedded
demo it needs METRICS_TOKEN, and without one configured it is switched off."""

from __future__ import annotations

import pytest

from bot.config import load_config

TOKEN = "a-long-random-metrics-token"


@pytest.fixture(autouse=True)
def no_token_in_the_environment(monkeypatch):
    monkeypatch.delenv("METRICS_TOKEN", raising=False)


def test_outside_the_demo_metrics_are_off_until_a_token_is_set(make_app):
    client = make_app(dev_mode=False).test_client()
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"METRICS_TOKEN" in response.data
    assert b"madoguchi_" not in response.data


def test_with_a_token_set_metrics_need_it(make_app):
    client = make_app(dev_mode=False, metrics_token=TOKEN).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and b"madoguchi_database_up" in answer.data


def test_a_server_database_in_development_mode_is_not_the_demo(make_app):
    client = make_app(database_url="postgresql+psycopg://db.city.example/madoguchi")
    assert client.test_client().get("/metrics").status_code == 403


def test_the_embedded_demo_serves_metrics_without_a_token(client):
    assert client.get("/metrics").status_code == 200


def test_the_token_is_read_from_the_environment_and_its_absence_is_noted():
    env = {"SECRET_KEY": "s", "PSEUDONYM_KEY": "p", "DATABASE_URL": "sqlite://",
           "ENCRYPTION_KEYS": "x4Gp8cJpVQm7oQ1u8JcE0bK3cS0tZb0l5cCw3hZQm1Y=",
           "LINE_CHANNEL_SECRET": "c", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    without = load_config("web", env)
    assert without.metrics_token is None
    assert any("METRICS_TOKEN is not set" in note for note in without.notes)
    assert load_config("web", {**env, "METRICS_TOKEN": TOKEN}).metrics_token == TOKEN
