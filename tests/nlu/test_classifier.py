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


def test_each_other_writer_is_read_by_a_model_that_never_saw_them():
    rows = corpus.load()
    writers = {r.part for r in rows if r.external}
    assert len(writers) >= 3
    fold_of: dict[str, int] = {}
    for n, val in enumerate(training.folds(rows)):
        for i in val:
            if rows[i].external:
                assert fold_of.setdefault(rows[i].part, n) == n, f"{rows[i].part} split"
    assert len(set(fold_of.values())) == min(len(writers), training.FOLDS)


def test_other_writers_weigh_more_in_training():
    rows = corpus.load(augmented=False)
    weights = dict(zip((r.id for r in rows), training.sample_weights(rows), strict=True))
    assert {weights[r.id] for r in rows if r.external} == {training.EXTERNAL_WEIGHT}
    assert {weights[r.id] for r in rows if not r.external} == {1.0}


def _scored(risk: str, part: str, score: float, n: int) -> list[tuple]:
    out = []
    for i in range(n):
        rid = f"{part}-{risk}-{i}"
        urgent = risk == "urgent"
        row = corpus.Row(rid, "x", (), urgent, "consult", "self", "plain", risk, part, rid)
        pred = classifier.Prediction(
            topics={t: 0.0 for t in classifier.HEADS["topics"]},
            risk={"urgent": score, "danger": score},
            intent={label: 0.1 for label in classifier.HEADS["intent"]},
            about={a: 0.3 for a in classifier.HEADS["about"]},
        )
        out.append((training.Example(row, {}, False, frozenset(), "self"), pred))
    return out


def test_risk_thresholds_are_chosen_on_other_writers_rows_when_there_are_some():
    # our own rows alone would put the urgent line at 0.4; the other writers' rows say 0.8
    pairs = _scored("urgent", "external/w", 0.8, 20) + _scored("none", "external/w", 0.2, 20)
    pairs += _scored("urgent", "written/x", 0.4, 20) + _scored("none", "written/x", 0.35, 20)
    chosen = training.choose_thresholds([e for e, _ in pairs], [p for _, p in pairs])
    assert chosen["risk"]["urgent"] == 0.8
    own = [pair for pair in pairs if not pair[0].row.external]
    alone = training.choose_thresholds([e for e, _ in own], [p for _, p in own])
    assert alone["risk"]["urgent"] == 0.4


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


def test_a_bare_town_name_is_no_danger_but_words_beside_it_are():
    # the answer to 「お住まいの町名は？」: a few letters the model once read as urgent
    for text in ("ぬまま", "沼間", "小坪5丁目です", "さくらやま", "逗子5丁目に住んでいます"):
        assert analyze(text).risk == "none", text
    assert analyze("沼間の橋の上にいます。もう終わりにします").urgent


def _blocks(text: str) -> dict[str, dict[str, float]]:
    from nlu import pipeline
    from nlu.analyzer import _compile_all, prepare, read_rules
    from nlu.features import extract

    _compile_all()
    views, prefixes = prepare([text])
    parsed = pipeline.parse_many(prefixes, extract)[0]
    return classifier.features(views[0], parsed.tokens, read_rules(views[0], parsed, None).rules)


def test_a_link_is_left_out_of_the_features_and_the_words_around_it_are_kept():
    linked = _blocks("Please help https://city.jp/Help I am scared of my husband")
    assert {"w:scared", "w:my"} <= set(linked["words"])
    assert not any("city" in k or "jp" in k for k in (*linked["words"], *linked["chars"]))
    with_link = _blocks("2歳の息子が熱 https://example.com/2024/a")
    without = _blocks("2歳の息子が熱")
    assert with_link["words"].keys() == without["words"].keys()
    assert with_link["chars"].keys() == without["chars"].keys()


def test_other_writers_weight_moves_the_fit_their_way():
    # the same text, labelled urgent by two other writers and calm by three of our rows: at
    # weight 3 the other writers outweigh us
    def row(i: int, part: str, risk: str) -> corpus.Row:
        rid = f"{part}-{i}"
        return corpus.Row(rid, "夜になると不安です", (), risk == "urgent", "consult", "self",
                          "plain", risk, part, rid)

    rows = [row(i, "written/x", "none") for i in range(3)]
    rows += [row(i, "external/w", "urgent") for i in range(2)]
    rows += [  # so that every output column has both classes
        corpus.Row("calm", "こんにちは", (), False, "greeting", "family", "plain", "none",
                   "written/y", "calm"),
        corpus.Row("danger", "助けて", (), True, "human", "other", "plain", "urgent",
                   "written/y", "danger"),
    ]
    exs = training.examples(rows)
    vocab = training.vocabulary(exs)
    model = training.fit(training.matrix(exs, vocab), rows, vocab)
    assert model.predict(exs[0].blocks).risk["urgent"] > 0.5


def test_no_corpus_message_is_a_regression_set_message():
    from pathlib import Path

    data = Path(__file__).resolve().parents[2] / "nlu" / "data"
    sets = [Path("/work/shared/eval/dev.jsonl"), data / "heldout.jsonl", data / "blind.jsonl"]
    guarded = {
        corpus.text_key(json.loads(line)["text"])
        for path in sets
        if path.exists()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert not [r.id for r in corpus.load() if corpus.text_key(r.text) in guarded]
