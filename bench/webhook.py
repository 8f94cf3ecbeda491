"""Webhook acknowledgement latency under gunicorn, load from a second process on loopback.

Writes docs/benchmarks/webhook.md: p50/p99, errors, and lost events (sent − stored).
"""

from __future__ import annotations

import json
import os
import signal
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
    start_web,
)

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
USERS = 200


def one_run(database_url: str, rate: float, web_processes: int, workdir: Path) -> dict:
    env = bench_env(database_url, "http://127.0.0.1:9")
    migrate(env)
    web, port = start_web(env, workdir / f"gunicorn-{rate}-{web_processes}.log", web_processes)
    try:
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
    lines += ["", "![webhook latency](benchmarks/webhook.svg)", ""]
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / "webhook.svg").write_text(latency_svg(rows))
    (DOCS / "webhook.md").write_text("\n".join(lines))



def latency_svg(rows: list[dict]) -> str:
    """A small bar chart (p50 and p99 per run) as standalone SVG: no plotting library needed."""
    width, height, left, bottom, bar = 640, 300, 60, 40, 26
    top = max([r["p99"] for r in rows] + [50.0]) * 1.15
    scale = (height - bottom - 20) / top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="{left}" y="14">Webhook acknowledgement latency (ms)</text>',
    ]
    target_y = height - bottom - 50 * scale
    parts.append(
        f'<line x1="{left}" x2="{width - 10}" y1="{target_y:.1f}" y2="{target_y:.1f}" '
        'stroke="#c00" stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<text x="{width - 120}" y="{target_y - 4:.1f}" fill="#c00">p99 target 50 ms</text>'
    )
    for i, r in enumerate(rows):
        x = left + 20 + i * (width - left - 40) / max(len(rows), 1)
        for j, (key, colour) in enumerate((("p50", "#4a90d9"), ("p99", "#1f3b73"))):
            h = r[key] * scale
            parts.append(
                f'<rect x="{x + j * (bar + 4):.1f}" y="{height - bottom - h:.1f}" '
                f'width="{bar}" height="{h:.1f}" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{x + j * (bar + 4):.1f}" y="{height - bottom - h - 3:.1f}">'
                f"{r[key]:.0f}</text>"
            )
        short = "PG" if r["backend"] == "PostgreSQL" else "SQ"
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}">{short} {r["rate"]:.0f}/s</text>'
        )
    parts.append(
        f'<text x="{left}" y="{height - 6}">dark: p99, light: p50; PG = PostgreSQL, '
        "SQ = SQLite</text></svg>"
    )
    return "\n".join(parts)


if __name__ == "__main__":
    main()
