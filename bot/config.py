"""Configuration from the environment (12-factor). Time zone is Asia/Tokyo throughout.

This module is the only reader of the environment: other modules are given their settings
(a Config, or a value taken from one) by the process that builds them."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from common.clock import TOKYO  # noqa: F401 (re-exported: older imports)
from handlers.sla import Targets, targets
from storage import crypto
from storage.bookings import ReminderTimes, horizon_days, reminder_times
from storage.retention import RetentionConfigError, RetentionPolicy

DEFAULT_DB = "sqlite:///instance/madoguchi.db"
DEV_SECRETS = Path("instance/dev-secrets.json")
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
    # "full": masked resident text in Slack; "notice": only "new message on case #n" and
    # a link to the console (masking misses indirect identifiers such as employers).
    slack_relay: str = "full"
    reply_token_ttl_seconds: int = 50  # LINE reply tokens expire in about a minute
    max_webhook_bytes: int = 1024 * 1024
    # Leases: longer than one attempt can take, short enough that a crashed one is retried
    # soon (a send's reply token may still be checked).
    event_lease_seconds: float = 60.0
    send_lease_seconds: float = 30.0
    delivery_threads: int = 4
    line_timeout_seconds: float = 10.0
    line_data_api_endpoint: str = "https://api-data.line.me"
    public_base_url: str | None = None
    rich_menu_font: str | None = None
    sla: Targets = field(default_factory=Targets)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    booking_reminders: ReminderTimes = field(default_factory=ReminderTimes)
    booking_horizon_days: int = 21
    metrics_token: str | None = None
    worker_metrics_port: int | None = None
    worker_metrics_addr: str = "127.0.0.1"
    cluster_workers: int = 2
    cluster_schedulers: int = 1
    web_concurrency: int = 2
    # Staff console sessions: signed out this long after signing in, or after this long idle.
    staff_session_hours: float = 8
    staff_idle_minutes: float = 30
    # How many reverse proxies (nginx) stand in front of `web`: their X-Forwarded-For/-Proto
    # are believed, nobody else's. 0 = none, use the connecting address.
    trusted_proxy_count: int = 0
    # The city allows an admin to publish content they edited themselves (no second person).
    content_self_publish: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def event_lease(self) -> timedelta:
        return timedelta(seconds=self.event_lease_seconds)

    @property
    def send_lease(self) -> timedelta:
        return timedelta(seconds=self.send_lease_seconds)

    @property
    def reply_token_ttl(self) -> timedelta:
        return timedelta(seconds=self.reply_token_ttl_seconds)

    @property
    def embedded_demo(self) -> bool:
        """`make run`: development mode on SQLite. Demo accounts and open metrics only here."""
        return self.dev_mode and self.database_url.startswith("sqlite")

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    def install_keys(self) -> None:
        crypto.configure(self.encryption_keys, self.pseudonym_key)


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = (env.get(name) or allowed[0]).strip().lower()
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


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
    port = int(_number(env, "PORT", 8000))
    if mode == "web" and not dev and not env.get("METRICS_TOKEN"):
        notes.append("METRICS_TOKEN is not set: /metrics answers 403 (see docs/deploy.md)")
    try:
        retention = RetentionPolicy.from_env(env)
    except RetentionConfigError as exc:
        raise ConfigError(str(exc)) from None
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
        slack_relay=_choice(env, "SLACK_RELAY", ("full", "notice")),
        reply_token_ttl_seconds=int(_number(env, "REPLY_TOKEN_TTL_SECONDS", 50)),
        event_lease_seconds=_number(env, "EVENT_LEASE_SECONDS", 60),
        send_lease_seconds=_number(env, "SEND_LEASE_SECONDS", 30),
        delivery_threads=int(_number(env, "DELIVERY_THREADS", 4)),
        line_timeout_seconds=_number(env, "LINE_TIMEOUT_SECONDS", 10),
        line_data_api_endpoint=env.get("LINE_DATA_API_ENDPOINT") or "https://api-data.line.me",
        public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
        rich_menu_font=env.get("RICH_MENU_FONT") or None,
        sla=targets(env),
        retention=retention,
        booking_reminders=reminder_times(env),
        booking_horizon_days=horizon_days(env),
        metrics_token=env.get("METRICS_TOKEN") or None,
        worker_metrics_port=int(_number(env, "WORKER_METRICS_PORT", 0)) or None,
        worker_metrics_addr=env.get("WORKER_METRICS_ADDR") or "127.0.0.1",
        cluster_workers=int(_number(env, "WORKERS", 2)),
        cluster_schedulers=int(_number(env, "SCHEDULERS", 1)),
        web_concurrency=int(_number(env, "WEB_CONCURRENCY", 2)),
        staff_session_hours=_number(env, "STAFF_SESSION_HOURS", 8),
        staff_idle_minutes=_number(env, "STAFF_IDLE_MINUTES", 30),
        trusted_proxy_count=int(_number(env, "TRUSTED_PROXY_COUNT", 0)),
        content_self_publish=_flag(env, "CONTENT_SELF_PUBLISH", False),
        notes=notes,
    )


def _number(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class ProcessSettings:
    """What a process needs before (or without) its Config: logging and gunicorn's own."""

    log_level: str = "INFO"
    log_format: str = "json"
    log_format_set: bool = False  # LOG_FORMAT given (else the command picks its default)
    prometheus_multiproc_dir: str | None = None
    web_threads: int = 8
    web_concurrency: int = 2
    port: int = 8000


def process_settings(env: dict[str, str] | None = None) -> ProcessSettings:
    env = dict(os.environ if env is None else env)
    return ProcessSettings(
        log_level=env.get("LOG_LEVEL") or "INFO",
        log_format=(env.get("LOG_FORMAT") or "json").lower(),
        log_format_set=bool(env.get("LOG_FORMAT")),
        prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
        web_threads=int(_number(env, "WEB_THREADS", 8)),
        web_concurrency=int(_number(env, "WEB_CONCURRENCY", 2)),
        port=int(_number(env, "PORT", 8000)),
    )
