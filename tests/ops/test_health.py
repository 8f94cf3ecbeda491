"""/healthz says the process is up; /readyz says it can do its job right now, and why not."""

from __future__ import annotations

from pathlib import Path

from bot.app import create_app
from tests.ops.conftest import UNREACHABLE_DB, services_on


def test_healthz_answers_ok_once_the_process_is_up(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok")


def test_readyz_lists_every_check_and_answers_200_when_all_pass(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "ready": True,
        "checks": {"database": "ok", "migrations": "current", "worker": "ready"},
    }


def test_readyz_is_503_while_the_worker_thread_is_still_loading_the_model(svc, client):
    svc.ready.clear()  # `all` mode sets it once the worker has loaded GiNZA
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "database": "ok", "migrations": "current", "worker": "starting"}


def test_readyz_is_503_on_a_database_that_was_never_migrated(tmp_path: Path):
    client = create_app(svc=services_on(f"sqlite:///{tmp_path / 'empty.db'}")).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"] == "behind"
    assert client.get("/healthz").status_code == 200  # up, just not ready


def test_readyz_is_503_when_the_database_cannot_be_reached():
    client = create_app(svc=services_on(UNREACHABLE_DB)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "ready": False,
        "checks": {"database": "unreachable", "migrations": "unknown", "worker": "ready"},
    }
