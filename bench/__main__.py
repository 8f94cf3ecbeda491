"""`make bench`: run every benchmark in its own process, then assemble docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

from bench.common import DOCS, PG_URL, ROOT, machine

# (module, section file it writes) in the order the report shows them.
BENCHMARKS = [
    ("bench.bench_nlu", "nlu.md"),
    ("bench.webhook", "webhook.md"),
    ("bench.pipeline", "pipeline.md"),
    ("bench.bench_checkins", "checkins.md"),
    ("bench.content", "content.md"),
]
# Hand-written sections (quality figures and notes), placed after the named script's section.
NOTES = {"nlu.md": "nlu-quality.md"}
# Extra arguments per benchmark: the check-ins run on PostgreSQL as well as SQLite.
ARGS = {"bench.bench_checkins": ["--postgres", PG_URL]}


def main() -> int:
    failed = []
    for module, _ in BENCHMARKS:
        print(f"== {module}", flush=True)
        command = [sys.executable, "-m", module, *ARGS.get(module, [])]
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(module)
    assemble()
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def assemble() -> None:
    parts = [
        "# Benchmarks",
        "",
        f"Assembled by `make bench` on {datetime.now().strftime('%Y-%m-%d %H:%M')} ({machine()}); "
        "each section comes from one script under bench/ and gives its own run date (sections "
        "under an HTML comment are written by hand); figures are measured, never asserted in "
        "tests.",
        "",
    ]
    for _, name in BENCHMARKS:
        section = DOCS / name
        for path in (section, DOCS / NOTES.get(name, "-")):
            if path.is_file():
                parts.append(path.read_text().strip())
                parts.append("")
    Path(ROOT / "docs" / "benchmarks.md").write_text("\n".join(parts))


if __name__ == "__main__":
    raise SystemExit(main())
