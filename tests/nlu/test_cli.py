"""The stable command-line interface."""

from __future__ import annotations

import io
import json

from nlu.__main__ import main


def test_analyze_jsonl(monkeypatch, capsys):
    lines = [
        json.dumps({"id": "a", "text": "母が倒れてて返事がない"}, ensure_ascii=False),
        json.dumps({"id": "b", "text": "電話は090-1234-5678"}, ensure_ascii=False),
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["analyze", "--jsonl", "--now", "2025-11-26T10:00:00+09:00"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert out[0]["id"] == "a" and out[0]["urgent"] is True and "health" in out[0]["topics"]
    for key in ("text", "topics", "urgent", "intent", "about", "compound", "when", "pii"):
        assert key in out[0]
    assert out[1]["masked"] == "電話は［電話番号］"


def test_output_is_not_ascii_escaped(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"text": "こんにちは"}) + "\n"))
    main(["analyze", "--jsonl"])
    assert "こんにちは" in capsys.readouterr().out


def test_evaluate_prints_metrics(tmp_path, capsys):
    f = tmp_path / "x.jsonl"
    f.write_text(
        json.dumps(
            {
                "id": "1",
                "text": "死にたい",
                "topics": ["suicide_risk"],
                "urgent": True,
                "intent": "consult",
                "about": "self",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["evaluate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "micro" in out and "urgent recall" in out and "intent accuracy" in out
