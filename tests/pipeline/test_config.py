"""Configuration comes from the environment; a missing secret is one clear line, not a trace."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_web_refuses_to_start_without_its_secrets_and_names_them():
    with pytest.raises(ConfigError) as error:
        load_config("web", env={})
    message = str(error.value)
    for name in ("SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS", "LINE_CHANNEL_SECRET"):
        assert name in message


def test_a_malformed_encryption_key_is_explained():
    env = {"SECRET_KEY": "s", "PSEUDONYM_KEY": "p", "ENCRYPTION_KEYS": "not-a-key",
           "DATABASE_URL": "sqlite://", "LINE_CHANNEL_SECRET": "x",
           "LINE_CHANNEL_ACCESS_TOKEN": "y"}
    with pytest.raises(ConfigError, match="Fernet"):
        load_config("web", env=env)


def test_production_settings_are_read_from_the_environment():
    key = Fernet.generate_key().decode()
    config = load_config("worker", env={
        "SECRET_KEY": "s", "PSEUDONYM_KEY": "p", "ENCRYPTION_KEYS": f"{key}, {key}",
        "DATABASE_URL": "postgresql+psycopg://db/madoguchi", "LINE_CHANNEL_SECRET": "x",
        "LINE_CHANNEL_ACCESS_TOKEN": "y", "LINE_API_ENDPOINT": "http://127.0.0.1:9",
        "CONTENT_PACK": "zushi", "PORT": "8123"})
    assert config.port == 8123 and config.line_api_endpoint == "http://127.0.0.1:9"
    assert config.encryption_keys == [key, key] and not config.simulator_enabled


def test_the_command_line_says_what_is_missing_in_one_line_and_exits_2():
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS", "MADOGUCHI_DEV")}
    result = subprocess.run([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def restore_keys():
    yield
    from tests.conftest import install_test_keys

    install_test_keys()  # load_config installs the keys it read


def test_slack_relay_is_full_or_notice_and_a_typo_is_explained(restore_keys):
    env = {"SECRET_KEY": "s", "PSEUDONYM_KEY": "p",
           "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "PUBLIC_BASE_URL": "https://madoguchi.example.jp/"}
    assert load_config("scheduler", env=env).slack_relay == "full"
    config = load_config("scheduler", env={**env, "SLACK_RELAY": "notice"})
    assert config.slack_relay == "notice"
    assert config.public_base_url == "https://madoguchi.example.jp"
    with pytest.raises(ConfigError, match="SLACK_RELAY"):
        load_config("scheduler", env={**env, "SLACK_RELAY": "minimal"})
