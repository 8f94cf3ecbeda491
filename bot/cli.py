"""`python -m bot web|worker|scheduler|all|migrate|create-staff|seed-demo`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from bot.config import Config, ConfigError, load_config
from bot.services import Services, build_services
from common.clock import TOKYO
from storage import bookings
from storage.db import transaction
from storage.models.booking import MODES

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
    if config.embedded_demo:
        for line in seed_demo(svc):
            log.info("%s", line)
    else:
        log.warning("DATABASE_URL is not the embedded SQLite demo: no demo accounts seeded;"
                    " create staff with `python -m bot create-staff`")
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

    svc = build_services(config)
    for line in start_or_exit(lambda: seed_demo(svc)):
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


# -- `python -m bot slots` ----------------------------------------------------------------


def add_slots_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="slots_action", required=True)
    add = actions.add_parser("add", help="recurring availability, e.g. 平日 10:00-16:00")
    add.add_argument("--window", required=True, help="a bookable window id (agencies.toml)")
    add.add_argument("--weekdays", default="0-4", help="0=Mon … 6=Sun: '0-4' or '1,3'")
    add.add_argument("--start", default="10:00")
    add.add_argument("--end", default="16:00")
    add.add_argument("--minutes", type=int, default=45)
    add.add_argument("--capacity", type=int, default=1)
    add.add_argument("--mode", default="来所", help="来所 / 電話 / オンライン / 訪問")
    add.add_argument("--location")
    add.add_argument("--from", dest="valid_from", type=date.fromisoformat)
    add.add_argument("--until", dest="valid_until", type=date.fromisoformat)
    add.add_argument("--days", type=int, help="publish this far ahead "
                     "(default BOOKING_HORIZON_DAYS)")
    close = actions.add_parser("close", help="a closed day: its slots are withdrawn, "
                               "booked residents are told")
    close.add_argument("--window", required=True)
    close.add_argument("--date", required=True, type=date.fromisoformat)
    close.add_argument("--reason", default="休業日")
    show = actions.add_parser("list", help="availability and the coming slots")
    show.add_argument("--window")
    show.add_argument("--days", type=int, default=7)
    publish = actions.add_parser("publish", help="publish slots from availability")
    publish.add_argument("--days", type=int, help="default BOOKING_HORIZON_DAYS")


def parse_weekdays(text: str) -> list[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        days.update(range(int(first), int(last or first) + 1))
    return sorted(days)


def cmd_slots(config: Config, args: argparse.Namespace) -> None:
    from bot.staff.bookings import bookable_windows
    from storage.models import utcnow

    svc = build_services(config)
    if getattr(args, "days", None) is None:  # publish this far ahead unless told otherwise
        args.days = config.booking_horizon_days
    windows = {a.id: a for a in bookable_windows()}
    window = getattr(args, "window", None)
    if window is not None and window not in windows:
        print(f"madoguchi: {window!r} is not a bookable window; bookable: "
              f"{', '.join(windows)}", file=sys.stderr)
        raise SystemExit(2)
    try:
        for line in _SLOT_ACTIONS[args.slots_action](svc.factory, args, utcnow()):
            print(line)
    except (bookings.BookingError, ValueError) as exc:
        print(f"madoguchi: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _cli_add(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    today = now.astimezone(TOKYO).date()
    with transaction(factory) as session:
        availability = bookings.add_availability(
            session, window_id=args.window, weekdays=parse_weekdays(args.weekdays),
            start=args.start, end=args.end, slot_minutes=args.minutes, capacity=args.capacity,
            mode=args.mode, location=args.location, now=now,
            valid_from=args.valid_from or today, valid_until=args.valid_until,
        )
        created = bookings.generate_slots(session, now=now, window_id=args.window,
                                          until=today + timedelta(days=args.days))
    return [f"availability {availability.id} added to {args.window}; {created} slots published"]


def _cli_close(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    from handlers.flows.booking import close_day_and_notify

    with transaction(factory) as session:
        told = close_day_and_notify(session, window_id=args.window, day=args.date,
                                    reason=args.reason, now=now)
    return [f"{args.window} closed on {args.date.isoformat()}; {told} resident(s) notified"]


def _cli_publish(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    until = now.astimezone(TOKYO).date() + timedelta(days=args.days)
    with transaction(factory) as session:
        created = bookings.generate_slots(session, now=now, until=until)
    return [f"{created} slots published up to {until.isoformat()}"]


def _cli_list(factory: Any, args: argparse.Namespace, now: datetime) -> list[str]:
    lines: list[str] = []
    from bot.staff.bookings import bookable_windows

    windows = [args.window] if args.window else [a.id for a in bookable_windows()]
    with factory() as session:
        for window_id in windows:
            lines.append(f"{window_id}:")
            for a in bookings.active_availability(session, window_id):
                days = "".join("月火水木金土日"[d] for d in a.weekdays)
                lines.append(f"  availability {a.id}: {days} {a.start_time}-{a.end_time} "
                             f"{a.slot_minutes}min x{a.capacity} {MODES[a.mode]}")
            for c in bookings.closed_days_from(session, window_id, now.astimezone(TOKYO).date()):
                lines.append(f"  closed {c.day.isoformat()} ({c.reason})")
            for day in range(args.days):
                shown = now.astimezone(TOKYO).date() + timedelta(days=day)
                for s in bookings.slots_on(session, window_id, shown):
                    at = s.starts_at.astimezone(TOKYO)
                    lines.append(f"  slot {s.id}: {at:%Y-%m-%d %H:%M} {MODES[s.mode]} "
                                 f"{s.booked}/{s.capacity} {s.status}")
    return lines


_SLOT_ACTIONS = {"add": _cli_add, "close": _cli_close, "list": _cli_list,
                 "publish": _cli_publish}


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
    add_slots_arguments(sub.add_parser("slots", help="booking slots"))
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
        "slots": lambda: cmd_slots(config, args),
        "cluster": lambda: cmd_cluster(config),
    }
    commands[args.command]()
