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


def configure_logging(text_by_default: bool = False) -> None:
    """JSON lines on stderr with request ids (LOG_FORMAT=text for a terminal)."""
    from bot.config import process_settings
    from bot.observability import configure_json_logging

    settings = process_settings()
    fmt = settings.log_format if settings.log_format_set or not text_by_default else "text"
    configure_json_logging(settings.log_level, log_format=fmt)


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
    from handlers.content import use_pack
    from handlers.content.versions import ensure_seeded
    from storage.db import make_engine, make_session_factory
    from storage.migrate import upgrade

    engine = make_engine(config.database_url)
    upgrade(engine)
    use_pack(config.content_pack)
    ensure_seeded(make_session_factory(engine))  # content version 1 from the pack files
    print("database is at the newest migration")


def cmd_web(config: Config) -> None:
    # Settings (gthread, --preload, workers, threads, bind) live in bot/gunicorn_conf.py.
    args = [sys.executable, "-m", "gunicorn", "--config", "python:bot.gunicorn_conf",
            "bot.wsgi:app"]
    os.execv(args[0], args)


def cmd_worker(config: Config) -> None:
    from bot.worker import Worker

    svc = build_services(config)
    if config.worker_metrics_port:
        from bot.observability import start_worker_metrics_server

        start_worker_metrics_server(config.worker_metrics_port, config.worker_metrics_addr)
    Worker.for_services(svc).run(_stop_on_signals())


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
    worker = Worker.for_services(svc)
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


def cmd_cluster(config: Config) -> None:
    from bot.cluster import run_cluster

    run_cluster(config)


def cmd_seed_demo(config: Config) -> None:
    from bot.demo import seed_demo

    for line in seed_demo(build_services(config)):
        print(line)


def cmd_line_setup(config: Config, args: argparse.Namespace) -> None:
    from pathlib import Path

    from bot import line_setup

    if not config.line_channel_access_token:
        print("madoguchi: set LINE_CHANNEL_ACCESS_TOKEN first", file=sys.stderr)
        raise SystemExit(2)
    api, data = config.line_api_endpoint, config.line_data_api_endpoint
    webhook = line_setup.webhook_url(config.public_base_url)
    try:
        image = Path(args.image).read_bytes() if args.image else None
        result = line_setup.setup(config.line_channel_access_token, api, data, image=image,
                                  webhook=webhook, set_webhook=args.set_webhook,
                                  font=config.rich_menu_font)
    except (line_setup.LineSetupError, OSError) as exc:
        print(f"madoguchi: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"rich menu {result.rich_menu_id} is the default ({result.image_bytes} byte image);"
          f" {len(result.removed)} earlier menu(s) removed")
    if webhook is None:
        print("set PUBLIC_BASE_URL (https://…) to see the webhook URL to configure")
    else:
        done = "set on the channel" if result.webhook_set else "paste it into LINE Developers"
        print(f"webhook URL: {webhook} ({done})")


def cmd_rotate_keys(config: Config, args: argparse.Namespace) -> None:
    from storage.db import make_engine
    from storage.rekey import rotate_all

    report = rotate_all(make_engine(config.database_url), config.encryption_keys,
                        batch_size=args.batch_size)
    for column, count in sorted(report.rotated.items()):
        print(f"{column}: {count} re-encrypted")
    print(f"{report.total_rotated} re-encrypted, {report.already_current} already current")
    if report.total_unreadable:
        for column, count in sorted(report.unreadable.items()):
            print(f"{column}: {count} readable with none of ENCRYPTION_KEYS", file=sys.stderr)
        raise SystemExit(1)


def cmd_retention(config: Config) -> None:
    from storage.models import utcnow
    from storage.retention import purge

    print(purge(build_services(config).factory, utcnow(), config.retention).summary())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Madoguchi")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("web", "worker", "scheduler", "all", "migrate", "seed-demo", "cluster"):
        sub.add_parser(name)
    setup = sub.add_parser("line-setup", help="create the LINE rich menu; show the webhook URL")
    setup.add_argument("--image", help="a designed 2500x843 PNG or JPEG instead of the drawn one")
    setup.add_argument("--set-webhook", action="store_true",
                       help="also set the channel's webhook URL from PUBLIC_BASE_URL")
    rotate = sub.add_parser("rotate-keys", help="re-encrypt data under the first key")
    rotate.add_argument("--batch-size", type=int, default=500)
    sub.add_parser("retention", help="apply the data retention policy once")
    from bot import staff_bookings

    staff_bookings.add_slots_arguments(sub.add_parser("slots", help="booking slots"))
    staff = sub.add_parser("create-staff", help="create a staff account")
    staff.add_argument("--username", required=True)
    staff.add_argument("--password", required=True)
    staff.add_argument("--role", choices=("coordinator", "editor", "admin"),
                       default="coordinator")
    args = parser.parse_args(argv)
    configure_logging(text_by_default=args.command == "all")  # the demo runs in a terminal
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
        "line-setup": lambda: cmd_line_setup(config, args),
        "rotate-keys": lambda: cmd_rotate_keys(config, args),
        "retention": lambda: cmd_retention(config),
        "seed-demo": lambda: cmd_seed_demo(config),
        "slots": lambda: staff_bookings.cmd_slots(config, args),
        "cluster": lambda: cmd_cluster(config),
    }
    commands[args.command]()
