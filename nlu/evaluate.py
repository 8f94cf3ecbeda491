"""Metrics for labelled JSONL files ({"text", "topics", "urgent", "intent", "about"})."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from nlu.analysis import TOPIC_IDS


@dataclass
class Report:
    n: int = 0
    per_label: dict[str, dict[str, float]] = field(default_factory=dict)
    micro_p: float = 0.0
    micro_r: float = 0.0
    micro_f1: float = 0.0
    macro_f1: float = 0.0
    urgent_recall: float = 0.0
    urgent_precision: float = 0.0
    urgent_tp: int = 0
    urgent_fn: int = 0
    urgent_fp: int = 0
    intent_accuracy: float = 0.0
    about_accuracy: float = 0.0
    errors: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def read_jsonl(path: str | Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def evaluate_rows(rows: list[dict], predict) -> Report:
    """``predict(text) -> Analysis``; compares with the gold labels present in each row."""
    rep = Report(n=len(rows))
    tp = dict.fromkeys(TOPIC_IDS, 0)
    fp = dict.fromkeys(TOPIC_IDS, 0)
    fn = dict.fromkeys(TOPIC_IDS, 0)
    intent_ok = about_ok = 0
    n_intent = n_about = 0
    for row in rows:
        a = predict(row["text"])
        pred = set(a.topic_ids)
        gold = set(row.get("topics", []))
        for t in TOPIC_IDS:
            if t in pred and t in gold:
                tp[t] += 1
            elif t in pred:
                fp[t] += 1
            elif t in gold:
                fn[t] += 1
        err: dict = {}
        if pred != gold:
            err["topics_missing"] = sorted(gold - pred)
            err["topics_extra"] = sorted(pred - gold)
        gu = bool(row.get("urgent", False))
        if gu and a.urgent:
            rep.urgent_tp += 1
        elif gu:
            rep.urgent_fn += 1
            err["urgent"] = "missed"
        elif a.urgent:
            rep.urgent_fp += 1
            err["urgent"] = f"false alarm: {a.urgent_reason}"
        if "intent" in row:
            n_intent += 1
            if a.intent == row["intent"]:
                intent_ok += 1
            else:
                err["intent"] = f"{row['intent']} → {a.intent}"
        if "about" in row:
            n_about += 1
            if a.about == row["about"]:
                about_ok += 1
            else:
                err["about"] = f"{row['about']} → {a.about}"
        if err:
            rep.errors.append({"id": row.get("id"), "text": row["text"][:120], **err})
    stp, sfp, sfn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    rep.micro_p = stp / (stp + sfp) if stp + sfp else 0.0
    rep.micro_r = stp / (stp + sfn) if stp + sfn else 0.0
    rep.micro_f1 = _f1(rep.micro_p, rep.micro_r)
    f1s = []
    for t in TOPIC_IDS:
        support = tp[t] + fn[t]
        p = tp[t] / (tp[t] + fp[t]) if tp[t] + fp[t] else 0.0
        r = tp[t] / support if support else 0.0
        f = _f1(p, r)
        rep.per_label[t] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f, 3),
            "support": support,
            "predicted": tp[t] + fp[t],
        }
        if support or tp[t] + fp[t]:
            f1s.append(f)
    rep.macro_f1 = sum(f1s) / len(f1s) if f1s else 0.0
    ut = rep.urgent_tp + rep.urgent_fn
    rep.urgent_recall = rep.urgent_tp / ut if ut else 1.0
    up = rep.urgent_tp + rep.urgent_fp
    rep.urgent_precision = rep.urgent_tp / up if up else 1.0
    rep.intent_accuracy = intent_ok / n_intent if n_intent else 0.0
    rep.about_accuracy = about_ok / n_about if n_about else 0.0
    return rep


def format_report(rep: Report, name: str = "") -> str:
    lines = [
        f"# {name} ({rep.n} messages)" if name else f"# {rep.n} messages",
        "",
        f"{'label':<20} {'prec':>6} {'rec':>6} {'f1':>6} {'support':>8} {'pred':>6}",
    ]
    for t, v in rep.per_label.items():
        if v["support"] or v["predicted"]:
            lines.append(
                f"{t:<20} {v['precision']:>6.3f} {v['recall']:>6.3f} {v['f1']:>6.3f} "
                f"{v['support']:>8} {v['predicted']:>6}"
            )
    lines += [
        "",
        f"topics micro P/R/F1: {rep.micro_p:.3f} / {rep.micro_r:.3f} / {rep.micro_f1:.3f}",
        f"topics macro F1:     {rep.macro_f1:.3f}",
        f"urgent recall:       {rep.urgent_recall:.3f} "
        f"({rep.urgent_tp}/{rep.urgent_tp + rep.urgent_fn})",
        f"urgent precision:    {rep.urgent_precision:.3f} "
        f"({rep.urgent_tp}/{rep.urgent_tp + rep.urgent_fp})",
        f"intent accuracy:     {rep.intent_accuracy:.3f}",
        f"about accuracy:      {rep.about_accuracy:.3f}",
        "",
        f"## errors ({len(rep.errors)})",
    ]
    for e in rep.errors:
        lines.append(json.dumps(e, ensure_ascii=False))
    return "\n".join(lines)
