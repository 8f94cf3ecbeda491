"""The trained classifier: risk bands and thresholds, the committed model, determinism, slips."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from nlu import RISK_LEVELS, analyze, analyze_many, classifier, corpus, training
from nlu.__main__ import main
from nlu.combine import band

THRESHOLDS = {"urgent": 0.6, "check": 0.25}


# ---------------------------------------------------------------- bands


def test_score_at_or_above_the_urgent_threshold_is_urgent():
    assert band(0.6, False, THRESHOLDS) == ("urgent", 0.6)
    assert band(0.95, False, THRESHOLDS) == ("urgent", 0.95)


def test_score_between_the_thresholds_is_check():
    assert band(0.25, False, THRESHOLDS) == ("check", 0.25)
    assert band(0.59, False, THRESHOLDS) == ("check", 0.59)


def test_score_below_the_check_threshold_is_none():
    assert band(0.249, False, THRESHOLDS) == ("none", 0.249)
    assert band(0.0, False, THRESHOLDS) == ("none", 0.0)


def test_lexicon_urgent_is_a_floor_the_model_cannot_lower():
    level, score = band(0.01, True, THRESHOLDS)
    assert level == "urgent" and score >= THRESHOLDS["urgent"]


def test_committed_thresholds_are_ordered_and_cover_every_topic():
    th = classifier.model().thresholds
    assert 0 < th["risk"]["check"] <= th["risk"]["urgent"] < 1
    assert set(th["topics"]) == set(classifier.HEADS["topics"])


@pytest.mark.parametrize(
    "text",
    [
        "もう死にたい",
        "母が倒れてて返事がない",
        "最近ずっと眠れなくて、何のために生きてるのかわからない",
        "窓口は何時までですか",
        "こんにちは",
        "",
    ],
)
def test_urgent_is_true_exactly_when_risk_is_urgent(text):
    a = analyze(text)
    assert a.risk in RISK_LEVELS
    assert a.urgent == (a.risk == "urgent")
    assert 0.0 <= a.risk_score <= 1.0
    assert (a.urgent_kind is not None) == a.urgent
    if a.risk != "none":
        assert a.urgent_reason and "根拠" in a.urgent_reason


def test_bands_follow_the_committed_thresholds():
    th = classifier.model().thresholds["risk"]
    texts = ["疲れた。全部どうでもいい", "屋上にいます。さようなら", "ごみの日は？", "暑いね"]
    for a in analyze_many(texts):
        if a.risk == "none":
            assert a.risk_score < th["check"]
        elif a.risk == "check":
            assert th["check"] <= a.risk_score < th["urgent"]
        else:
            assert a.risk_score >= th["urgent"]


def test_plain_suicidal_message_is_urgent_and_a_leaflet_question_is_not():
    assert analyze("ロープを用意しました。今夜終わりにします").risk == "urgent"
    assert analyze("ゲートキーパー研修の日程を教えてください").risk == "none"


def test_batch_and_single_reads_agree():
    texts = ["父が帰ってこない。認知症で、外は大雨です", "保育園の申し込みはいつまで？"]
    for one, many in zip([analyze(t) for t in texts], analyze_many(texts), strict=True):
        assert (one.risk, one.risk_score, one.topic_ids, one.intent, one.about) == (
            many.risk,
            many.risk_score,
            many.topic_ids,
            many.intent,
            many.about,
        )


# ---------------------------------------------------------------- issue 14 intent slips


def test_opening_hours_question_is_faq():
    assert analyze("何時から開いていますか").intent == "faq"


def test_cannot_come_after_all_is_change_booking():
    assert analyze("やっぱり行けなくなりました").intent == "change_booking"


def test_second_year_junior_high_pupil_caring_for_a_parent_is_young_carer():
    a = analyze("中2です。父が病気で寝たきりなので、毎日ごはんと着替えを手伝ってます")
    assert "young_carer" in a.topic_ids and a.compound


def test_8050_household_is_elderly_care_and_hikikomori_compound():
    a = analyze("80代の母と、もう20年家から出ていない50代の兄と3人で暮らしています")
    assert {"elderly_care", "hikikomori"} <= set(a.topic_ids) and a.compound


def test_third_party_asking_where_to_turn_is_consult_about_other():
    a = analyze("近所の一人暮らしのおばあさんの様子が最近心配です。どこに相談すればいいですか")
    assert (a.intent, a.about) == ("consult", "other")


# ---------------------------------------------------------------- the model files and the corpus


def test_committed_model_was_trained_on_the_current_corpus():
    meta = classifier.model().meta
    assert meta["corpus_hash"] == corpus.corpus_hash(), (
        "nlu/corpus/ changed since the model was trained: run `python -m nlu train` and commit"
    )


def test_model_files_are_small_enough_to_commit():
    size = sum(p.stat().st_size for p in classifier.MODEL_DIR.iterdir() if p.is_file())
    assert size < 30 * 2**20


def test_corpus_is_large_and_labelled_with_style_and_risk():
    rows = corpus.load()
    assert len(rows) >= 4000
    assert {r.risk for r in rows} == set(RISK_LEVELS)
    assert all(r.style for r in rows)
    ids = {r.id for r in rows}
    assert all(r.group in ids for r in rows), "an augmented row names a missing source"


def test_folds_keep_a_message_and_its_variants_together():
    rows = corpus.load()
    group_fold = {}
    for n, val in enumerate(training.folds(rows)):
        for i in val:
            assert group_fold.setdefault(rows[i].group, n) == n


def test_a_malformed_corpus_line_is_named(tmp_path):
    (tmp_path / "own").mkdir()
    bad = {"id": "x", "text": "死にたい", "topics": [], "urgent": False, "intent": "consult"}
    bad |= {"about": "self", "style": "plain", "risk": "urgent"}
    (tmp_path / "own" / "bad.jsonl").write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(corpus.CorpusError, match="bad.jsonl:1: urgent must be true"):
        corpus.load(tmp_path)


# ---------------------------------------------------------------- determinism


def _small_corpus() -> list[corpus.Row]:
    rows = corpus.load(augmented=False)
    by_risk: dict[str, list[corpus.Row]] = {}
    for r in rows:
        by_risk.setdefault(r.risk, []).append(r)
    return [r for level in RISK_LEVELS for r in by_risk[level][:40]]


def test_training_twice_on_the_same_corpus_gives_the_same_predictions():
    rows = _small_corpus()
    first, rep1 = training.train(rows, out_dir=None, k=2)
    second, rep2 = training.train(rows, out_dir=None, k=2)
    assert first.vocab == second.vocab
    assert np.array_equal(first.weights, second.weights)
    assert first.thresholds == second.thresholds and rep1 == rep2
    exs = training.examples(rows[:20])
    for a, b in zip(
        training.predict_rows(first, exs), training.predict_rows(second, exs), strict=True
    ):
        assert a == b


# ---------------------------------------------------------------- command line


def test_cli_prints_risk_and_risk_score(monkeypatch, capsys):
    lines = [json.dumps({"id": "r", "text": "もう消えたい。薬を全部飲んだ"}, ensure_ascii=False)]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["analyze", "--jsonl"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["risk"] == "urgent" and out["urgent"] is True and out["risk_score"] >= 0.5
