"""Urgency: present danger is flagged (recall first); hyperbole, past, fiction are not."""

from __future__ import annotations

import pytest

from nlu import URGENT_KINDS, analyze


def urgent(text: str):
    a = analyze(text)
    return a.urgent, a.urgent_kind, a.urgent_reason


def test_hyperbole_is_not_urgent():
    assert urgent("死ぬほど暑い〜🥵")[0] is False
    assert urgent("残業続きで死にそう〜")[0] is False
    assert urgent("笑い死ぬかと思った")[0] is False


def test_past_dv_consultation_is_not_urgent():
    assert (
        urgent("昔DVの相談をしたことがあります。住民票の閲覧制限について教えてください")[0] is False
    )


def test_fiction_is_not_urgent():
    assert urgent("ドラマで見た虐待のシーンがつらかった")[0] is False
    assert urgent("小説で主人公が自殺する場面を読んだ")[0] is False


def test_resolved_missing_person_is_not_urgent():
    assert urgent("先週、父が行方不明になりましたが警察に見つけてもらいました")[0] is False


def test_hypothetical_disaster_is_not_urgent():
    assert urgent("もし地震が来たら、寝たきりの母をどう避難させればいいですか")[0] is False


def test_never_hit_is_not_urgent():
    assert urgent("夫に殴られたことは一度もないですが、生活費をくれません")[0] is False


def test_sincere_wish_to_die_is_urgent_suicide():
    ok, kind, reason = urgent("もう生きてる意味がわからない。消えたい")
    assert ok and kind == "suicide"
    assert "消えたい" in reason or "生きてる意味" in reason


@pytest.mark.parametrize(
    "text",
    ["リスカやめられない", "さっきODした", "まじ無理、しにたい", "首つるしかない", "I want to die"],
)
def test_teen_slang_and_english_self_harm_is_urgent(text):
    ok, kind, _ = urgent(text)
    assert ok and kind == "suicide"


def test_hiragana_fall_is_urgent_medical():
    ok, kind, reason = urgent("ははがたおれてうごかない")
    assert ok and kind == "medical"
    assert "うごかない" in reason or "たおれて" in reason


def test_stroke_signs_are_urgent_medical():
    assert urgent("夫が急にろれつが回らなくなった")[1] == "medical"


def test_dialect_no_answer_is_urgent_medical():
    assert urgent("じいちゃんが風呂場でたおれて、よんでもへんじせん")[1] == "medical"


def test_partner_violence_is_urgent_violence():
    ok, kind, _ = urgent("夫に殴られた。今トイレに隠れてる")
    assert ok and kind == "violence"


def test_parent_hitting_child_is_urgent_abuse():
    assert urgent("中2です。お父さんに毎日なぐられる")[1] == "abuse"


def test_missing_person_with_dementia_is_urgent_missing():
    assert urgent("認知症の父が朝から帰ってこない")[1] == "missing"


def test_flood_in_progress_is_urgent_disaster():
    assert urgent("川の水があふれてきてる。寝たきりの父を2階に上げられない")[1] == "disaster"


def test_distant_past_self_harm_is_not_urgent():
    assert urgent("3年前に自殺未遂をしました。今は通院して落ち着いています")[0] is False


def test_safety_keyword_after_parser_cap_still_counts():
    text = "今日はいい天気でした。" * 600 + "でも本当はもう死にたい"
    ok, kind, _ = urgent(text)
    assert ok and kind == "suicide"


def test_urgent_kind_is_from_contract():
    for text in [
        "死にたい",
        "母が倒れてて返事がない",
        "夫に蹴られてる",
        "子どもが帰ってこない、探しても見つからない",
    ]:
        a = analyze(text)
        assert a.urgent and a.urgent_kind in URGENT_KINDS and a.urgent_reason
