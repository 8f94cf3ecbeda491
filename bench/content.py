"""What following the published content costs: the per-batch version check, loading a new
version, and rebuilding the FAQ index (GiNZA lemmas) after one answer changed.

    python -m bench.content [--postgres URL]      → docs/benchmarks/content.md
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.common import DOCS, PG_URL, machine, postgres_schema
from handlers.content import editing, live, load_pack
from storage import content as store
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import utcnow

CHECKS = 1000
NEW_VERSIONS = 10


def measure(url: str) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    live.reset()
    live.refresh(factory)  # seeds version 1
    began = time.perf_counter()
    for _ in range(CHECKS):
        live.refresh(factory)
    check_ms = (time.perf_counter() - began) / CHECKS * 1000
    loads = []
    for n in range(NEW_VERSIONS):
        with transaction(factory) as session:
            payload = editing.put_faq(store.published(session).payload,
                                      {"answer": f"回答 {n}"}, "hokatsu_where")
            store.add_published(session, payload, origin="console", now=utcnow())
        began = time.perf_counter()
        assert live.refresh(factory)
        loads.append((time.perf_counter() - began) * 1000)
    engine.dispose()
    live.reset()
    return {"check_ms": check_ms, "load_ms": statistics.median(loads)}


def faq_index() -> dict[str, float]:
    import nlu
    from handlers.content.versions import pack_from_payload, payload_of
    from handlers.flows import faq

    nlu.load()
    pack = load_pack()
    began = time.perf_counter()
    faq.index_for(pack)
    first = time.perf_counter() - began
    changed = pack_from_payload(editing.put_faq(
        payload_of(pack), {"keywords": ["包括", "場所", "住所", "新しいキーワード"]},
        "hokatsu_where"))
    began = time.perf_counter()
    faq.index_for(changed)
    again = time.perf_counter() - began
    return {"entries": len(pack.faq), "first_s": first, "rebuild_s": again}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=PG_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        sqlite = measure(f"sqlite:///{Path(scratch) / 'content.db'}")
    os.environ.setdefault("BENCH_DATABASE_URL", args.postgres)
    with postgres_schema("content") as url:
        postgres = measure(url)
    index = faq_index()
    load = os.getloadavg()
    lines = [
        "## Following the published content",
        "",
        f"`bench/content.py`, {datetime.now().strftime('%Y-%m-%d %H:%M')}, {machine()}.",
        "",
        "| | SQLite (file) | PostgreSQL |",
        "|---|---|---|",
        f"| version check, unchanged (every worker batch; web at most 1/s) | "
        f"{sqlite['check_ms']:.2f} ms | {postgres['check_ms']:.2f} ms |",
        f"| a new version: read, validate, swap in (median of {NEW_VERSIONS}) | "
        f"{sqlite['load_ms']:.1f} ms | {postgres['load_ms']:.1f} ms |",
        "",
        f"FAQ index ({index['entries']} entries, GiNZA lemmas): first build "
        f"{index['first_s']:.2f} s; rebuilt after one entry changed {index['rebuild_s']:.2f} s "
        "(lemmas are cached per text, so only changed texts are read again).",
        "",
        f"Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (2 cores shared "
        "with other engineers' test runs).",
    ]
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / "content.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
