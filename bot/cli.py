"""`python -m bot web|worker|scheduler|all|migrate|create-staff|seed-demo`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from bot.config import Config, ConfigError, load_config
from bot.services import Services, build_services

log = logging.getLogger("madoguchi")
T = TypeVar("T")


def configure_logging() -> None:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr
    )


def start_or_exit(build: Callable[[], T]) -> T:
    """Build something from configuration; a configuration error is one clear line."""
    try:
        return build()
    except ConfigError as exc:
        print(f"madoguchi: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_migrate(config: Config) -> None:
    from storage.db import make_engine
    from storage.migrate import upgrade

    upgrade(make_engine(config.database_url))
    print("database is at the newest migration")


def cmd_web(config: Config) -> None:
    # Settings (gthread, --preload, workers, threads, bind) live in bot/gunicorn_conf.py.
    args = [sys.executable, "-m", "gunicorn", "--config", "python:bot.gunicorn_conf",
            "bot.wsgi:app"]
    os.execv(args[0], args)


def cmd_worker(config: Config) -> None:
    from bot.worker import Worker

    svc = build_services(config)
    Worker(svc.factory, svc.channels).run(_stop_on_signals())


def cmd_scheduler(config: Config) -> None:
    from scheduler.runner import run_scheduler

    svc = build_services(config)
    run_scheduler(svc, _stop_on_signals())


def cmd_all(config: Config) -> None:
    """The embedded demo: migrate, seed, then web + worker + scheduler in one process."""
    from werkzeug.serving import make_server

    from bot.app import create_app
    from bot.demo import seed_demo
    from bot.worker import Worker
    from scheduler.runner import run_scheduler
    from storage.migrate import upgrade

    svc = build_services(config)
    upgrade(svc.engine)
    for line in seed_demo(svc):
        log.info("%s", line)
    stop = _stop_on_signals()
    worker = Worker(svc.factory, svc.channels)
    threading.Thread(target=worker.run, args=(stop,), name="worker", daemon=True).start()
    threading.Thread(
        target=run_scheduler, args=(svc, stop), name="scheduler", daemon=True
    ).start()

    def mark_ready() -> None:
        worker.ready.wait()
        svc.ready.set()
        log.info("ready: resident simulator http://127.0.0.1:%s/simulator,"
                 " staff console http://127.0.0.1:%s/staff", config.port, config.port)

    threading.Thread(target=mark_ready, daemon=True).start()
    server = make_server("127.0.0.1", config.port, create_app(svc=svc), threaded=True)
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    log.info("serving on http://127.0.0.1:%s (loading the Japanese model…)", config.port)
    server.serve_forever()


def cmd_create_staff(config: Config, args: argparse.Namespace) -> None:
    from storage.db import transaction
    from storage.staff import StaffError, create_staff

    svc: Services = build_services(config)
    try:
        with transaction(svc.factory) as session:
            create_staff(session, args.username, args.password, args.role)
    except StaffError as exc:
        print(f"madoguchi: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"created {args.role} {args.username}")


def cmd_seed_demo(config: Config) -> None:
    from bot.demo import seed_demo

    for line in seed_demo(build_services(config)):
        print(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Madoguchi")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("web", "worker", "scheduler", "all", "migrate", "seed-demo"):
        sub.add_parser(name)
    staff = sub.add_parser("create-staff", help="create a staff account")
    staff.add_argument("--username", required=True)
    staff.add_argument("--password", required=True)
    staff.add_argument("--role", choices=("coordinator", "admin"), default="coordinator")
    args = parser.parse_args(argv)
    configure_logging()
    mode = "all" if args.command in ("all", "seed-demo") else args.command
    config = start_or_exit(lambda: load_config(mode))
    for note in config.notes:
        log.warning("%s", note)
    commands: dict[str, Callable[[], None]] = {
        "web": lambda: cmd_web(config),
        "worker": lambda: cmd_worker(config),
        "scheduler": lambda: cmd_scheduler(config),
        "all": lambda: cmd_all(config),
        "migrate": lambda: cmd_migrate(config),
        "create-staff": lambda: cmd_create_staff(config, args),
        "seed-demo": lambda: cmd_seed_demo(config),
    }
    commands[args.command]()
