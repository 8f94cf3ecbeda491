"""Configuration from the environment (12-factor). Time zone is Asia/Tokyo throughout."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from storage import crypto

TOKYO = ZoneInfo("Asia/Tokyo")
DEFAULT_DB = "sqlite:///instance/madoguchi.db"
DEV_SECRETS = Path("instance/dev-secrets.json")
T = TypeVar("T", int, float)
SECRETS = ("SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS")
DEMO_TOOLS = ("create-staff", "slots")  # commands that also work on the embedded demo


class ConfigError(RuntimeError):
    """A configuration problem worth a one-line explanation, not a stack trace."""


@dataclass(frozen=True)
class Config:
    database_url: str
    secret_key: str
    pseudonym_key: str
    encryption_keys: list[str]
    line_channel_secret: str | None
    line_channel_access_token: str | None
    line_api_endpoint: str = "https://api.line.me"
    content_pack: str = "zushi"
    port: int = 8000
    simulator_enabled: bool = False
    dev_mode: bool = False
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_channel: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    reply_token_ttl_seconds: int = 50
    max_webhook_bytes: int = 1024 * 1024
    booking_horizon_days: int = 21  # slots are published this far ahead
    # Staff console sessions: signed out this long after signing in, or after this long idle.
    staff_session_hours: float = 8
    staff_idle_minutes: float = 30
    # How many reverse proxies (nginx) stand in front of `web`: their X-Forwarded-For/-Proto
    # are believed, nobody else's. 0 = none, use the connecting address.
    trusted_proxy_count: int = 0
    metrics_token: str | None = None
    public_base_url: str | None = None  # https://… as residents and calendar apps reach us
    notes: list[str] = field(default_factory=list)

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def embedded_demo(self) -> bool:
        """`make run`: development mode on SQLite. Demo accounts and open metrics only here."""
        return self.dev_mode and self.database_url.startswith("sqlite")

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    def install_keys(self) -> None:
        crypto.configure(self.encryption_keys, self.pseudonym_key)


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def _number(env: dict[str, str], name: str, default: T) -> T:
    value = env.get(name)
    if not value:
        return default
    try:
        return type(default)(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}") from None


def _dev_secrets() -> dict[str, str]:
    """Throwaway secrets for the embedded demo, kept so encrypted rows stay readable."""
    if DEV_SECRETS.exists():
        return json.loads(DEV_SECRETS.read_text())
    DEV_SECRETS.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(32),
        "PSEUDONYM_KEY": secrets.token_urlsafe(32),
        "ENCRYPTION_KEYS": crypto.new_key(),
    }
    DEV_SECRETS.write_text(json.dumps(values))
    DEV_SECRETS.chmod(0o600)
    return values


def load_config(mode: str = "web", env: dict[str, str] | None = None) -> Config:
    """Read the environment. `all` (the demo) fills missing secrets; other modes refuse."""
    env = dict(os.environ if env is None else env)
    dev = mode == "all" or _flag(env, "MADOGUCHI_DEV", False)
    notes: list[str] = []
    if dev:
        missing = [k for k in ("SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS") if not env.get(k)]
        if missing:
            generated = _dev_secrets()
            for key in missing:
                env[key] = generated[key]
            notes.append(
                f"development mode: using throwaway {', '.join(missing)} from {DEV_SECRETS}"
                " — set them in the environment for production"
            )
    elif mode in DEMO_TOOLS and not env.get("DATABASE_URL") and DEV_SECRETS.exists():
        # e.g. `python -m bot create-staff` after `make run`: the demo's database, so the
        # demo's secrets (never made up here: rows written with other keys would be lost).
        stored = json.loads(DEV_SECRETS.read_text())
        missing = [k for k in SECRETS if not env.get(k) and stored.get(k)]
        for key in missing:
            env[key] = stored[key]
        if missing:
            notes.append(f"embedded demo: using {', '.join(missing)} from {DEV_SECRETS}")
    required = ["SECRET_KEY", "PSEUDONYM_KEY", "ENCRYPTION_KEYS"]
    if mode in ("web", "worker") and not dev:
        required += ["DATABASE_URL", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"]
    absent = [k for k in required if not env.get(k)]
    if absent:
        raise ConfigError(
            f"missing required setting(s) for `{mode}`: {', '.join(absent)}. "
            "See README.md, section Configuration."
        )
    keys = [k.strip() for k in env["ENCRYPTION_KEYS"].split(",") if k.strip()]
    try:
        crypto.configure(keys, env["PSEUDONYM_KEY"])
    except (ValueError, crypto.KeysNotConfiguredError) as exc:
        raise ConfigError(
            "ENCRYPTION_KEYS must be comma-separated Fernet keys; make one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from exc
    if dev and not env.get("LINE_CHANNEL_SECRET"):
        notes.append("LINE is not configured: use the resident simulator at /simulator")
    port = _number(env, "PORT", 8000)
    if mode == "web" and not dev and not env.get("METRICS_TOKEN"):
        notes.append("METRICS_TOKEN is not set: /metrics answers 403 (see docs/deploy.md)")
    return Config(
        database_url=env.get("DATABASE_URL") or DEFAULT_DB,
        secret_key=env["SECRET_KEY"],
        pseudonym_key=env["PSEUDONYM_KEY"],
        encryption_keys=keys,
        line_channel_secret=env.get("LINE_CHANNEL_SECRET") or None,
        line_channel_access_token=env.get("LINE_CHANNEL_ACCESS_TOKEN") or None,
        line_api_endpoint=env.get("LINE_API_ENDPOINT") or "https://api.line.me",
        content_pack=env.get("CONTENT_PACK") or "zushi",
        port=port,
        simulator_enabled=_flag(env, "SIMULATOR_ENABLED", dev),
        dev_mode=dev,
        slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_channel=env.get("SLACK_CHANNEL") or None,
        slack_api_url=env.get("SLACK_API_URL") or "https://slack.com/api/",
        booking_horizon_days=max(_number(env, "BOOKING_HORIZON_DAYS", 21), 1),
        staff_session_hours=_number(env, "STAFF_SESSION_HOURS", 8.0),
        staff_idle_minutes=_number(env, "STAFF_IDLE_MINUTES", 30.0),
        trusted_proxy_count=_number(env, "TRUSTED_PROXY_COUNT", 0),
        metrics_token=env.get("METRICS_TOKEN") or None,
        public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        notes=notes,
    )
