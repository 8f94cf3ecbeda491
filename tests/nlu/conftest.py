"""Shared fixtures: GiNZA is loaded once per test session (the module singleton)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import nlu

TOKYO = ZoneInfo("Asia/Tokyo")
# Wednesday 2025-11-26 10:00 JST
NOW = datetime(2025, 11, 26, 10, 0, tzinfo=TOKYO)


@pytest.fixture(scope="session", autouse=True)
def loaded():
    nlu.load()
    return True


@pytest.fixture
def now() -> datetime:
    return NOW
