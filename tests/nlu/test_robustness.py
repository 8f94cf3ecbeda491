"""Odd input never raises; the pipeline is a lazily loaded singleton guarded by a lock."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

import nlu
from nlu import Analysis, analyze, pipeline


def test_empty_string():
    a = analyze("")
    assert isinstance(a, Analysis) and a.topics == [] and not a.urgent and a.intent == "greeting"


def test_whitespace_and_control_characters():
    for text in ["   \n\t ", "\x00\x01\x02死にたい\x7f", "\u200b\u200b"]:
        assert isinstance(analyze(text), Analysis)
    assert analyze("\x00\x01死にたい\x7f").urgent


def test_emoji_only():
    # crying emoji alone is a greeting or a worry without words (writers differ), never a danger
    # or a request; a thumbs-up is not a worry
    a = analyze("🙏😭😭🥺")
    assert a.intent in ("greeting", "consult") and not a.urgent
    assert analyze("👍👍").intent not in ("consult", "faq")


def test_url_only():
    a = analyze("https://example.com/path?q=1")
    assert isinstance(a, Analysis) and a.risk == "none" and a.topics == []


def test_a_link_inside_a_message_does_not_change_how_it_is_read():
    plain = analyze("母が転んで起き上がれません")
    linked = analyze("母が転んで起き上がれません https://example.com/a/b?c=1")
    assert (linked.risk, linked.topic_ids) == (plain.risk, plain.topic_ids)


def test_mixed_scripts():
    a = analyze("Hello こんにちは 안녕하세요 你好 Привет 🙂")
    assert isinstance(a, Analysis)


def test_ten_thousand_characters():
    text = ("母の介護で疲れています。" * 900)[:10000]
    a = analyze(text)
    assert len(a.text) == 10000 and "elderly_care" in a.topic_ids


def test_loaded_once_and_reported():
    assert nlu.is_loaded()
    first = pipeline.load()
    assert pipeline.load() is first


def test_concurrent_calls_are_serialised_by_the_lock():
    errors = []

    def work():
        try:
            for _ in range(3):
                assert analyze("認知症の父が帰ってこない").urgent
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_analyze_never_raises_on_arbitrary_text(text):
    a = analyze(text)
    assert isinstance(a, Analysis)
    assert a.intent in nlu.INTENTS and a.about in nlu.ABOUT
    for p in a.pii:
        assert 0 <= p.start < p.end <= len(text) and text[p.start : p.end] == p.text
    a.to_dict()
    a.masked_text()


def test_analyze_many_matches_analyze():
    texts = [
        "",
        "母が倒れてて返事がない",
        "来週の火曜の午後に予約したい",
        "🙏",
        "生活保護の申請に何が必要？",
    ]
    many = nlu.analyze_many(texts)
    for text, a in zip(texts, many, strict=True):
        b = analyze(text)
        key = (b.topic_ids, b.urgent, b.intent, b.about)
        assert (a.topic_ids, a.urgent, a.intent, a.about) == key
