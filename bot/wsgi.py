"""The WSGI entry point for gunicorn (Procfile `web`)."""

from __future__ import annotations

from bot.cli import configure_logging, start_or_exit
from bot.config import load_config
from bot.demo import refuse_demo_accounts
from bot.services import build_services

configure_logging()
_svc = start_or_exit(lambda: build_services(load_config("web")))
start_or_exit(lambda: refuse_demo_accounts(_svc))  # known passwords: never on a real server
_svc.ready.set()  # a web process only needs its configuration and database

from bot.app import create_app  # noqa: E402

app = create_app(svc=_svc)
