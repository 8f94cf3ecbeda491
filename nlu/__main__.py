"""Command line: ``python -m nlu analyze|evaluate|train|augment``.

analyze --jsonl   JSON lines with "text" on stdin → one JSON object per line on stdout
                  (text, topics, urgent, risk, risk_score, urgent_kind, urgent_reason, intent,
                  about, compound, when, pii, masked, language, lemmas, districts, topic_details;
                  other input keys such as "id" are echoed back). Without --jsonl, each stdin line
                  is a message.
evaluate [FILE]   without FILE: k-fold (group) cross-validation on nlu/corpus/ per label and per
                  style, then the dev.jsonl report. With FILE: per-label precision/recall/F1,
                  micro/macro F1, urgent recall and precision, risk bands, intent and about
                  accuracy, and the list of errors. Exit 0. --json for JSON.
train             rebuild nlu/corpus/augmented/ and the model in nlu/model/ from the corpus.
augment           rebuild nlu/corpus/augmented/ only.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from nlu import analyze
from nlu.evaluate import evaluate_rows, format_report, read_jsonl

DEV = Path("/work/shared/eval/dev.jsonl")


def _output(a, extra: dict) -> dict:
    d = a.to_dict()
    d["masked"] = a.masked_text()
    for k, v in extra.items():
        if k not in d:
            d[k] = v
    return d


def cmd_analyze(args) -> int:
    now = datetime.fromisoformat(args.now) if args.now else None
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        extra: dict = {}
        if args.jsonl:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                print(json.dumps({"error": f"invalid JSON: {exc}"}, ensure_ascii=False), flush=True)
                continue
            text = obj.get("text", "") if isinstance(obj, dict) else str(obj)
            extra = {k: v for k, v in obj.items() if k != "text"} if isinstance(obj, dict) else {}
        else:
            text = line
        print(json.dumps(_output(analyze(text, now=now), extra), ensure_ascii=False), flush=True)
    return 0


def _report_file(path: str, now: datetime | None, as_json: bool) -> None:
    rows = read_jsonl(path)
    rep = evaluate_rows(rows, lambda t: analyze(t, now=now))
    if as_json:
        print(json.dumps(rep.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_report(rep, path))


def cmd_evaluate(args) -> int:
    now = datetime.fromisoformat(args.now) if args.now else None
    if args.file:
        _report_file(args.file, now, args.json)
        return 0
    from nlu import corpus, training

    _, report = training.train(corpus.load(), out_dir=None, progress=_progress, k=args.folds)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        print(training.format_cv(report, args.folds))
    if DEV.exists():
        print()
        _report_file(str(DEV), now, args.json)
    return 0


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cmd_train(args) -> int:
    from nlu import augment, corpus, training

    counts = augment.augment()
    _progress(f"augmented: {counts}")
    rows = corpus.load()
    _progress(f"corpus: {len(rows)} rows")
    _, report = training.train(rows, progress=_progress, k=args.folds)
    print(training.format_cv(report, args.folds))
    return 0


def cmd_augment(args) -> int:
    from nlu import augment

    print(json.dumps(augment.augment(), ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m nlu", description="Madoguchi Japanese understanding (GiNZA)"
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("analyze", help="analyse messages from stdin")
    a.add_argument("--jsonl", action="store_true", help='stdin lines are JSON objects with "text"')
    a.add_argument("--now", help="ISO datetime to resolve dates against (default: now, Asia/Tokyo)")
    a.set_defaults(func=cmd_analyze)
    e = sub.add_parser("evaluate", help="metrics on a labelled JSONL file")
    e.add_argument("file", nargs="?", help="a labelled JSONL file (default: CV + dev.jsonl)")
    e.add_argument("--folds", type=int, default=5)
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.add_argument("--now", help="ISO datetime to resolve dates against")
    e.set_defaults(func=cmd_evaluate)
    t = sub.add_parser("train", help="rebuild the classifier from nlu/corpus/")
    t.add_argument("--folds", type=int, default=5)
    t.set_defaults(func=cmd_train)
    g = sub.add_parser("augment", help="rebuild nlu/corpus/augmented/")
    g.set_defaults(func=cmd_augment)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
