"""Helpers for the operations tests: read /metrics, capture JSON logs, build services."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.observability import configure_json_logging
from bot.services import Services, build_services
from storage.db import make_engine
from tests.conftest import make_config

UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics as {(sample name, sorted labels): value}."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.data
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def counter(name: str, **labels: str) -> float:
    """A counter's current value in this process (0 before its first increment)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def services_on(url: str) -> Services:
    """Services on a database of the test's choosing (unmigrated, unreachable …)."""
    svc = build_services(make_config("http://127.0.0.1:9"), engine=make_engine(url))
    svc.ready.set()
    return svc


class CapturedLogs:
    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def json_logs() -> Iterator[CapturedLogs]:
    """Everything logged, at DEBUG, through the production JSON configuration."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    quiet = {name: logging.getLogger(name).level for name in
             ("sqlalchemy.engine", "sqlalchemy.pool", "linebot", "urllib3")}
    stream = io.StringIO()
    handler = configure_json_logging("DEBUG", stream)
    yield CapturedLogs(stream)
    root.removeHandler(handler)
    root.setLevel(saved_level)
    root.handlers[:] = saved_handlers
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)
