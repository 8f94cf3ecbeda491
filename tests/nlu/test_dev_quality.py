"""Quality gates on the shared dev set and on our own held-out set (nlu/data/heldout.jsonl)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import analyze
from nlu.evaluate import evaluate_rows, read_jsonl

DEV = Path("/work/shared/eval/dev.jsonl")
HELDOUT = Path(__file__).resolve().parents[2] / "nlu" / "data" / "heldout.jsonl"


@pytest.fixture(scope="module")
def dev_report():
    if not DEV.exists():
        pytest.skip("shared dev set not available")
    return evaluate_rows(read_jsonl(DEV), analyze)


@pytest.fixture(scope="module")
def heldout_report():
    return evaluate_rows(read_jsonl(HELDOUT), analyze)


def test_dev_topics_micro_f1_stays_at_least_095(dev_report):
    assert dev_report.micro_f1 >= 0.95


def test_dev_urgent_recall_is_perfect_with_good_precision(dev_report):
    assert dev_report.urgent_recall == 1.0
    assert dev_report.urgent_precision >= 0.90


def test_dev_intent_and_about_accuracy(dev_report):
    assert dev_report.intent_accuracy >= 0.90
    assert dev_report.about_accuracy >= 0.90


def test_heldout_is_big_and_varied_enough(heldout_report):
    assert heldout_report.n >= 150


def test_heldout_urgent_recall_is_perfect(heldout_report):
    missed = [e for e in heldout_report.errors if e.get("urgent") == "missed"]
    assert heldout_report.urgent_recall == 1.0, missed


def test_heldout_floor(heldout_report):
    assert heldout_report.micro_f1 >= 0.85
    assert heldout_report.intent_accuracy >= 0.85
