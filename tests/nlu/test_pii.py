"""Personal data spans and masking."""

from __future__ import annotations

from nlu import analyze, mask
from nlu.analysis import PiiSpan
from nlu.pii import mask_spans


def kinds(text):
    return {(p.kind, p.text) for p in analyze(text).pii}


def test_phone_number_is_masked():
    assert mask("電話は090-1234-5678です") == "電話は［電話番号］です"


def test_full_width_phone_number_is_masked():
    assert mask("０９０－１２３４－５６７８に連絡ください") == "［電話番号］に連絡ください"


def test_landline_and_email():
    k = kinds("046-872-2480 か taro.y@example.jp まで")
    assert ("phone", "046-872-2480") in k and ("email", "taro.y@example.jp") in k


def test_postal_code_and_address():
    out = mask("〒249-0006 逗子市逗子5-4-33に住んでます")
    assert "［郵便番号］" in out and "［住所］" in out and "249" not in out and "5-4-33" not in out


def test_person_name_from_ner():
    out = mask("田中太郎と申します。母のことで相談です")
    assert out.startswith("［氏名］と申します")


def test_common_nouns_are_not_names():
    assert not any(
        p.kind == "person" for p in analyze("民生委員さんとヘルパーさんに相談しました").pii
    )


def test_my_number_is_masked():
    assert "［マイナンバー］" in mask("マイナンバーは1234 5678 9012です")


def test_spans_point_into_original_text():
    text = "連絡先：０９０－１１１１－２２２２"
    (p,) = [p for p in analyze(text).pii if p.kind == "phone"]
    assert text[p.start : p.end] == p.text == "０９０－１１１１－２２２２"


def test_mask_spans_merges_overlaps():
    spans = [PiiSpan(0, 4, "person", "山田花子"), PiiSpan(2, 4, "person", "花子")]
    assert mask_spans("山田花子です", spans) == "［氏名］です"
