"""FAQ retrieval answers only from the pack, offers candidates when unsure, and stays quiet
when the question is unrelated."""

from __future__ import annotations

import pytest

from handlers.faq import FaqIndex, FaqMatch, decide, ngram_lemmatize


def ask(index, text, topics=()):
    return decide(index.search(ngram_lemmatize(text), list(topics)))


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("地域包括支援センターはどこ？", "hokatsu_where"),
        ("窓口の受付時間わ？", "hours"),
        ("土日もやってますか？", "hours"),
        ("匿名でも相談できますか", "anonymous"),
        ("生活保護の申請に何が必要？", "seikatsu_hogo"),
        ("住居確保給付金ってどんな人がもらえますか", "housing_benefit"),
        ("成年後見の申し立てって費用いくらくらいかかりまか", "seinen_kouken"),
        ("母の介護保健の更新の書類、どこに出せばいいですか", "kaigo_hoken"),
        ("障害者手帳がほしい", "disability_techo"),
        ("データを消したい", "data_delete"),
        ("家で余ってる食品を寄付したい。フードドライブはどこ？", "food_drive_donate"),
        ("避難行動要支援者の名簿に登録するにはどうすればいいですか", "evacuation_support"),
        ("ボランティアをしてみたいです", "volunteer"),
    ],
)
def test_faq_answers_common_questions(faq_index, question, entry_id):
    decision = ask(faq_index, question)
    assert decision.kind == "answer", [m.entry.id for m in decision.matches]
    assert decision.entry.id == entry_id


@pytest.mark.parametrize(
    "question",
    ["今日の天気はどうですか", "ラーメンのおいしい店を教えて", "サッカーの試合結果は？",
     "市営住宅の申込みはいつからですか", "クーリングオフって契約してから何日以内ならできる？",
     "配食サービスってどうやって申し込むの？", "おはようございます"],
)
def test_faq_never_answers_unrelated_question(faq_index, question):
    assert ask(faq_index, question).kind == "none"


def test_topic_overlap_alone_never_matches(faq_index):
    topics = ["living_hardship", "child_parenting", "elderly_care"]
    decision = ask(faq_index, "ラーメン", topics=topics)
    assert decision.kind == "none"


def test_unsure_question_offers_up_to_three_candidates(faq_index):
    decision = ask(faq_index, "子ども食堂")
    assert decision.kind == "candidates"
    assert 2 <= len(decision.matches) <= 3
    assert decision.matches[0].entry.id == "kodomo_shokudo"
    assert decision.entry is None


def test_topic_overlap_breaks_ties_toward_the_residents_topic(pack):
    entries = [pack.faq_entry("money_consult"), pack.faq_entry("kodomo_shokudo")]
    index = FaqIndex(entries, ngram_lemmatize)
    query = ngram_lemmatize("お金") + ngram_lemmatize("食堂")
    plain = index.search(query, [])
    boosted = index.search(query, ["child_parenting"])
    assert boosted[0].entry.id == "kodomo_shokudo"
    assert boosted[0].score > next(m.score for m in plain if m.entry.id == "kodomo_shokudo")


def test_search_returns_only_pack_entries(pack, faq_index):
    ids = {e.id for e in pack.faq}
    for question in ("お金がない", "子育て", "見守り", "介護"):
        for match in faq_index.search(ngram_lemmatize(question)):
            assert match.entry.id in ids
            assert match.entry in pack.faq


def test_empty_or_stopword_query_is_none(faq_index):
    assert faq_index.search([]) == []
    assert decide(faq_index.search(["する", "ある"])).kind == "none"


def test_decide_on_nothing_is_none():
    assert decide([]).kind == "none"


def test_decide_answers_a_clear_winner(pack):
    a, b = pack.faq_entry("hours"), pack.faq_entry("anonymous")
    decision = decide([FaqMatch(a, 10.0, 0.9), FaqMatch(b, 2.0, 0.5)])
    assert decision.kind == "answer" and decision.entry is a


def test_decide_offers_candidates_when_close(pack):
    a, b, c, d = (pack.faq_entry(i) for i in ("hours", "anonymous", "data_use", "data_delete"))
    decision = decide([FaqMatch(a, 10.0, 0.9), FaqMatch(b, 9.5, 0.9), FaqMatch(c, 9.0, 0.8),
                       FaqMatch(d, 8.0, 0.7)])
    assert decision.kind == "candidates"
    assert decision.entries == [a, b, c]


def test_index_accepts_any_lemmatizer(pack):
    index = FaqIndex(pack.faq, lambda text: text.split())
    decision = decide(index.search(["サロン"]))
    assert decision.kind in ("answer", "candidates")
    assert decision.matches[0].entry.id == "salon"


def test_with_the_real_nlu_lemmatizer_if_available(pack):
    try:
        from nlu import analyze  # noqa: PLC0415 - optional heavy dependency

        analysis = analyze("地域包括支援センターはどこにありますか")
    except Exception as exc:  # noqa: BLE001 - any failure means nlu is not ready here
        pytest.skip(f"nlu not available: {exc.__class__.__name__}")
    index = FaqIndex(pack.faq, lambda text: analyze(text).lemmas)
    matches = index.search(analysis.lemmas, analysis.topic_ids)
    assert matches and matches[0].entry.id == "hokatsu_where"
