"""Topics (multi-label with evidence), intent, about, compound, language, lemmas, districts."""

from __future__ import annotations

from nlu import TOPIC_IDS, analyze


def test_topics_have_confidence_and_evidence():
    a = analyze("認知症の母の介護で毎日疲れています")
    ids = a.topic_ids
    assert "dementia" in ids and "elderly_care" in ids
    for t in a.topics:
        assert t.id in TOPIC_IDS and 0 < t.confidence <= 1 and t.evidence


def test_spelling_variants_match_the_same_topic():
    for text in ["息子の引きこもりが心配", "息子のひきこもりが心配", "息子のヒキコモリが心配"]:
        assert "hikikomori" in analyze(text).topic_ids, text


def test_hiragana_elderly_message_gets_topics():
    a = analyze("としよりの　ひとりぐらしで　かいものに　いけません")
    assert {"elderly_care", "daily_living"} <= set(a.topic_ids)


def test_8050_is_compound():
    a = analyze("80代の母と50代の兄が二人暮らし。兄はもう20年家から出ていません")
    assert {"elderly_care", "hikikomori"} <= set(a.topic_ids)
    assert a.compound


def test_double_care_is_detected_and_compound():
    a = analyze("2歳の子の育児と要介護2の義母の介護が重なって限界です")
    assert "double_care" in a.topic_ids and a.compound and a.about == "self"


def test_young_carer_is_detected():
    a = analyze("高2です。おばあちゃんの介護で学校を休みがちです")
    assert "young_carer" in a.topic_ids and a.about == "self"


def test_single_problem_is_not_compound():
    assert not analyze("生活保護の申請に何が必要ですか").compound


def test_greeting_has_no_topics():
    a = analyze("こんにちは！よろしくお願いします")
    assert a.intent == "greeting" and a.topics == []


def test_intents():
    cases = {
        "来週の火曜の午後に相談の予約をしたいです": "book",
        "明日10時の予約をキャンセルさせてください": "change_booking",
        "職員さんと直接話したい": "human",
        "これまでの相談履歴を消してください": "delete_data",
        "元気です": "checkin_ok",
        "ちょっと熱がある": "checkin_unwell",
        "窓口の受付時間は何時までですか？": "faq",
        "借金が返せなくて毎日不安です": "consult",
        "おはようございます☀️": "greeting",
    }
    for text, intent in cases.items():
        assert analyze(text).intent == intent, text


def test_about_self_family_other():
    assert analyze("私、仕事をクビになりました").about == "self"
    assert analyze("息子が学校に行けなくなりました").about == "family"
    assert analyze("民生委員です。担当の一人暮らしの方が心配です").about == "other"
    assert analyze("隣の家がゴミ屋敷になっています").about == "other"
    assert analyze("夫に殴られる").about == "self"


def test_english_message_is_other_language_and_foreign_resident():
    a = analyze("I lost my job and cannot pay rent. What can I do?")
    assert a.language == "other"
    assert "foreign_resident" in a.topic_ids and "employment" in a.topic_ids


def test_japanese_message_language():
    assert analyze("生活が苦しいです").language == "ja"


def test_lemmas_are_normalized_content_words():
    a = analyze("子どもが引きこもりで困っています")
    assert "子供" in a.lemmas and "引き籠もり" in a.lemmas and "困る" in a.lemmas
    assert "て" not in a.lemmas and "が" not in a.lemmas


def test_districts_are_found():
    assert analyze("沼間に住んでいる者です").districts == ["沼間"]
    assert "小坪" in analyze("こつぼの高齢者サロンはどこですか").districts
    assert analyze("逗子市に住んでます").districts == []


def test_a_parent_who_says_their_own_old_age_makes_an_8050_case_compound():
    analysis = analyze("息子(45)がもう20年家から出てこない。私も80になって先が不安です")
    assert {"elderly_care", "hikikomori"} <= set(analysis.topic_ids)
    assert analysis.compound
