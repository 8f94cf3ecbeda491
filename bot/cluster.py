"""`python -m bot cluster`: the Procfile topology on one machine, on PostgreSQL.

Starts web (gunicorn, WEB_CONCURRENCY processes), WORKERS worker processes and
SCHEDULERS scheduler processes (the second one stands by on the leader lock),
prefixes their output, restarts none of them (a supervisor's job in production),
and stops them all on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from bot.config import Config


def processes(config: Config) -> list[tuple[str, list[str]]]:
    python = sys.executable
    workers, schedulers = config.cluster_workers, config.cluster_schedulers
    plan = [("web", [python, "-m", "bot", "web"])]
    plan += [(f"worker.{n + 1}", [python, "-m", "bot", "worker"]) for n in range(workers)]
    plan += [(f"scheduler.{n + 1}", [python, "-m", "bot", "scheduler"])
             for n in range(schedulers)]
    return plan


def _pump(name: str, stream: Sequence[bytes]) -> None:
    for line in stream:
        sys.stdout.write(f"{name:12} | {line.decode('utf-8', 'replace')}")
        sys.stdout.flush()


def run_cluster(config: Config) -> None:
    if not config.database_url.startswith("postgresql"):
        print("madoguchi: cluster needs PostgreSQL (DATABASE_URL=postgresql+psycopg://…);"
              " SQLite runs one process: use `make run`", file=sys.stderr)
        raise SystemExit(2)
    # The children read the same environment (each loads its own Config).
    env = dict(os.environ, WEB_CONCURRENCY=str(config.web_concurrency), PORT=str(config.port))
    subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True)
    children: list[subprocess.Popen[bytes]] = []
    for name, args in processes(config):
        child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        children.append(child)
        threading.Thread(target=_pump, args=(name, child.stdout), daemon=True).start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"cluster: {len(children)} processes; http://127.0.0.1:{config.port}", flush=True)
    while not stop.is_set() and any(c.poll() is None for c in children):
        stop.wait(1.0)
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
