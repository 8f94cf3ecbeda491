"""Webhook acknowledgement latency under gunicorn, load from a second process on loopback.

Writes docs/benchmarks/webhook.md: p50/p99, errors, and lost events (sent − stored).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.common import (
    DOCS,
    ROOT,
    bench_env,
    machine,
    migrate,
    percentile,
    postgres_schema,
    start,
    wait_http,
)

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
USERS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(database_url: str, rate: float, web_processes: int, workdir: Path) -> dict:
    port = free_port()
    env = bench_env(database_url, "http://127.0.0.1:9")
    migrate(env)
    web = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:bot.gunicorn_conf",
            "--workers",
            str(web_processes),
            "--bind",
            f"127.0.0.1:{port}",
            "bot.wsgi:app",
        ],
        env,
        workdir / f"gunicorn-{port}.log",
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        out = workdir / f"load-{port}.json"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.loadgen",
                f"http://127.0.0.1:{port}/callback/line",
                str(rate),
                str(SECONDS),
                str(USERS),
                str(out),
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        result = json.loads(out.read_text())
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM inbound_events")).scalar_one()
    engine.dispose()
    lat = result["latencies"]
    return {
        "rate": rate,
        "web": web_processes,
        "sent": result["sent"],
        "ok": result["ok"],
        "errors": sum(result["errors"].values()),
        "error_kinds": result["errors"],
        "p50": percentile(lat, 50) * 1000,
        "p99": percentile(lat, 99) * 1000,
        "max": max(lat) * 1000 if lat else float("nan"),
        "stored": stored,
        "lost": result["sent"] - stored,
    }


def main() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        plans = [("PostgreSQL", 200, 2), ("PostgreSQL", 500, 2), ("SQLite", 200, 2)]
        for backend, rate, processes in plans:
            if backend == "PostgreSQL":
                url = stack.enter_context(postgres_schema("bench_webhook"))
            else:
                url = f"sqlite:///{workdir / f'webhook-{rate}.db'}"
            row = one_run(url, rate, processes, workdir)
            row["backend"] = backend
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "error_kinds"}), flush=True)
    write(rows)
    return rows


def write(rows: list[dict]) -> None:
    lines = [
        "## Webhook acknowledgement latency",
        "",
        f"Signed LINE webhook posts (one text event each, {USERS} residents) at a fixed rate for "
        f"{SECONDS:.0f} s from a separate load-generator process on loopback; gunicorn gthread "
        f"(8 threads per process, --preload). Latency is from each request's scheduled start "
        f"to its 200. Lost = sent − rows in inbound_events after the run. Machine: {machine()}.",
        "",
        "| database | web processes | rate (req/s) | sent | p50 (ms) | p99 (ms) | max (ms) "
        "| errors | lost events |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['web']} | {r['rate']:.0f} | {r['sent']} | {r['p50']:.1f} "
            f"| {r['p99']:.1f} | {r['max']:.1f} | {r['errors']} | {r['lost']} |"
        )
    lines.append("")
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / "webhook.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
