"""Open-loop load generator: signed LINE webhook posts at a fixed rate, from its own process.

Usage: python -m bench.loadgen URL RATE SECONDS USERS OUT.json
Latency is measured from each request's scheduled start, so a slow server cannot hide
queueing by slowing the generator down (no coordinated omission).
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlparse

from bench.common import signed_body, text_event

THREADS = 32
WARMUP_SECONDS = 2.0  # sent and counted as events, but not in the latency figures


def run(url: str, rate: float, seconds: float, users: int) -> dict[str, object]:
    target = urlparse(url)
    total = int(rate * (seconds + WARMUP_SECONDS))
    bodies = [
        signed_body([text_event(f"Ubench{n % users:027d}", f"ベンチマーク {n}")])
        for n in range(total)
    ]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    cursor = {"next": 0}

    def sender() -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        while True:
            with lock:
                n = cursor["next"]
                cursor["next"] += 1
            if n >= total:
                break
            due = start + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body, signature = bodies[n]
            try:
                conn.request(
                    "POST",
                    target.path,
                    body=body,
                    headers={"Content-Type": "application/json", "X-Line-Signature": signature},
                )
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
            elapsed = time.monotonic() - due
            warming = n < rate * WARMUP_SECONDS
            with lock:
                if status == "200":
                    if not warming:
                        latencies.append(elapsed)
                else:
                    errors[status] = errors.get(status, 0) + 1

    threads = [threading.Thread(target=sender) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "sent": total,
        "ok": len(latencies),
        "errors": errors,
        "latencies": latencies,
        "duration": time.monotonic() - start,
    }


if __name__ == "__main__":
    url, rate, seconds, users, out = sys.argv[1:6]
    result = run(url, float(rate), float(seconds), int(users))
    with open(out, "w") as f:
        json.dump(result, f)
