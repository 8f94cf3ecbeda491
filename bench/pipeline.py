"""End-to-end processing: worker throughput (1 and 2 worker processes, PostgreSQL) against
raw GiNZA throughput, and webhook-to-reply latency at light load.

Writes docs/benchmarks/pipeline.md.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.common import (
    DOCS,
    bench_env,
    machine,
    migrate,
    percentile,
    postgres_schema,
    signed_body,
    start,
    start_web,
    text_event,
)
from tests.fakes.line_server import FakeLine

MESSAGES = int(os.environ.get("BENCH_PIPELINE_MESSAGES", "1000"))
LATENCY_SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "30"))
RESIDENTS = 100
TEXTS = [
    "母の介護のことで相談したいです",
    "地域包括支援センターの場所を教えてください",
    "最近眠れなくて仕事にも行けません",
    "子どもが学校に行けていません",
    "家賃が払えなくて困っています",
    "近所のおばあさんが最近見かけなくて心配です",
    "予約はできますか",
    "ひとりで寂しいです",
    "息子が何年も部屋から出てきません",
    "父の物忘れがひどくなってきました",
]


def texts(n: int) -> list[str]:
    return [f"{TEXTS[i % len(TEXTS)]}（{i}）" for i in range(n)]


def raw_ginza_rate(sample: list[str]) -> float:
    import spacy

    nlp = spacy.load("ja_ginza")
    list(nlp.pipe(sample[:50]))  # warm up
    began = time.perf_counter()
    for _ in nlp.pipe(sample):
        pass
    return len(sample) / (time.perf_counter() - began)


def post_all(port: int, events: list[dict]) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for event in events:
        body, signature = signed_body([event])
        conn.request(
            "POST",
            "/callback/line",
            body=body,
            headers={"Content-Type": "application/json", "X-Line-Signature": signature},
        )
        response = conn.getresponse()
        response.read()
        assert response.status == 200


def throughput(workers: int, workdir: Path, fake: FakeLine) -> dict:
    with postgres_schema("bench_pipe") as url:
        env = bench_env(url, fake.url)
        migrate(env)
        web, port = start_web(env, workdir / "web.log")
        procs = []
        try:
            sample = texts(MESSAGES)
            post_all(
                port, [text_event(f"Ubench{i % RESIDENTS:027d}", t) for i, t in enumerate(sample)]
            )
            procs = [
                start([sys.executable, "-m", "bot", "worker"], env, workdir / f"worker{n}.log")
                for n in range(workers)
            ]
            engine = create_engine(url)
            deadline = time.monotonic() + 1800
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    left = conn.execute(
                        text(
                            "SELECT count(*) FROM inbound_events WHERE status NOT IN "
                            "('done','failed','ignored')"
                        )
                    ).scalar_one()
                if not left:
                    break
                time.sleep(0.5)
            with engine.connect() as conn:
                first, last, done = conn.execute(
                    text(
                        "SELECT min(processed_at), max(processed_at), count(*) FROM inbound_events "
                        "WHERE status = 'done'"
                    )
                ).one()
            engine.dispose()
        finally:
            for p in [web, *procs]:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
    elapsed = (last - first).total_seconds()
    return {
        "workers": workers,
        "messages": done,
        "seconds": elapsed,
        "rate": (done - 1) / elapsed if elapsed else float("nan"),
    }


def _wait_worker_ready(log: Path, timeout: float = 120) -> None:
    """Measure replies, not the worker's start: wait until it has loaded the model."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and " ready" in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise RuntimeError("the worker did not become ready")


def latency(workdir: Path, fake: FakeLine) -> dict:
    with postgres_schema("bench_lat") as url:
        env = bench_env(url, fake.url, LOG_LEVEL="INFO")  # the worker logs when it is ready
        migrate(env)
        web, port = start_web(env, workdir / "web2.log")
        worker = start([sys.executable, "-m", "bot", "worker"], env, workdir / "lat-worker.log")
        try:
            _wait_worker_ready(workdir / "lat-worker.log")
            fake.reset()
            posted: dict[str, float] = {}
            count = int(LATENCY_SECONDS * 5)
            for i, t in enumerate(texts(count)):
                event = text_event(f"Ulat{i % 20:028d}", t)
                posted[event["replyToken"]] = time.monotonic()
                post_all(port, [event])
                time.sleep(0.2)
            time.sleep(5)
            seen = {c.reply_token: c.at for c in fake.calls if c.kind == "reply"}
        finally:
            for p in (web, worker):
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
    delays = [(seen[k] - t) * 1000 for k, t in posted.items() if k in seen]
    return {
        "sent": len(posted),
        "answered": len(delays),
        "p50": percentile(delays, 50),
        "p99": percentile(delays, 99),
    }


def main() -> None:
    fake = FakeLine().start()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rows = [throughput(n, workdir, fake) for n in (1, 2)]
        raw = raw_ginza_rate(texts(MESSAGES))
        light = latency(workdir, fake)
    fake.stop()
    for row in rows:
        print(row, flush=True)
    print({"raw_ginza_per_s": raw, **light}, flush=True)
    lines = [
        "## End-to-end processing",
        "",
        f"{MESSAGES} signed text events from {RESIDENTS} residents stored through the webhook "
        "(gunicorn, 2 processes) on PostgreSQL, then drained by worker processes running "
        "GiNZA, the conversation handlers and delivery to a fake LINE API on loopback. "
        "Rate = events between the first and last `processed_at`. Raw GiNZA = `nlp.pipe` "
        f"of ja_ginza over the same texts in one process. Machine: {machine()}.",
        "",
        "| workers | events | seconds | events/s | ratio to raw GiNZA |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['workers']} | {row['messages']} | {row['seconds']:.1f} "
            f"| {row['rate']:.1f} | {row['rate'] / raw:.2f} |"
        )
    lines += [
        "",
        f"Raw GiNZA `nlp.pipe`: {raw:.1f} texts/s.",
        "",
        f"Webhook to reply at light load (5 events/s for {LATENCY_SECONDS:.0f} s, one worker): "
        f"{light['answered']}/{light['sent']} answered, p50 {light['p50']:.0f} ms, "
        f"p99 {light['p99']:.0f} ms (from the webhook post to the fake LINE API receiving the "
        "reply).",
        "",
    ]
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / "pipeline.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
