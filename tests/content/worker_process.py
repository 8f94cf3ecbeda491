"""One worker process for the multi-process content test: the real Worker on the database
in DATABASE_URL, without GiNZA (the test sends postbacks, which need no reading)."""

from __future__ import annotations

import logging
import signal
import threading

from bot.config import load_config
from bot.services import build_services
from bot.worker import Worker


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    svc = build_services(load_config("worker"))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Worker(svc.factory, svc.channels).run(stop, idle_sleep=0.1, warm_up=False)


if __name__ == "__main__":
    main()
