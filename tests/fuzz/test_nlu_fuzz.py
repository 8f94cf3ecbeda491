"""Fuzzing nlu.analyze: any text a phone can send (control characters, emoji, other scripts,
very long) is read without an exception and gives an Analysis that keeps its contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.analysis import ABOUT, INTENTS, TOPIC_IDS, URGENT_KINDS, Analysis

nlu = pytest.importorskip("nlu", reason="nlu.analyze not installed yet")
if not hasattr(nlu, "analyze"):
    pytest.skip("nlu.analyze not installed yet", allow_module_level=True)

FUZZ = settings(max_examples=80, deadline=None)
# Surrogates cannot reach us (LINE sends UTF-8 JSON); everything else can.
any_char = st.characters(exclude_categories=["Cs"])
japanese = st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF)
fragments = st.sampled_from([
    "死にたい", "明日の10時", "090-1234-5678", "介護", "予約したい", "〒249-0006", "\u200b",
    "\x00", "\r\n", "\t", "😢", "ｱｲｳ", "①", "令和6年", "来週の火曜", "🙂" * 5, "\u202e", "〜",
])
mixed = st.lists(fragments | st.text(japanese, max_size=8) | st.text(any_char, max_size=8),
                 max_size=12).map("".join)


def check(text: str, analysis: Analysis) -> None:
    assert isinstance(analysis, Analysis) and analysis.text == text
    assert set(analysis.topic_ids) <= set(TOPIC_IDS)
    assert analysis.intent in INTENTS and analysis.about in ABOUT
    assert analysis.urgent_kind in (*URGENT_KINDS, None)
    assert not analysis.urgent or analysis.urgent_kind in URGENT_KINDS
    for span in analysis.pii:
        assert 0 <= span.start <= span.end <= len(text)
    for period in analysis.when:
        assert period.start.tzinfo is not None and period.start <= period.end
    assert isinstance(analysis.masked_text(), str)


@FUZZ
@given(text=st.text(any_char, max_size=300))
def test_any_unicode_text_is_analysed_without_an_exception(text):
    check(text, nlu.analyze(text))


@FUZZ
@given(text=mixed)
def test_japanese_mixed_with_control_characters_and_emoji_is_analysed(text):
    check(text, nlu.analyze(text))


@settings(max_examples=5, deadline=None)
@given(text=st.tuples(st.text(japanese, min_size=1, max_size=30) | mixed.filter(bool),
                      st.integers(min_value=100, max_value=250)).map(lambda p: p[0] * p[1]))
def test_very_long_messages_are_analysed(text):
    # LINE allows 5,000 characters a message; go past it.
    check(text, nlu.analyze(text))


@settings(max_examples=30, deadline=None)
@given(text=mixed, offset=st.integers(min_value=-10 * 365, max_value=10 * 365))
def test_any_now_is_accepted(text, offset):
    now = datetime(2026, 4, 1, 9, 0, tzinfo=UTC) + timedelta(days=offset)
    check(text, nlu.analyze(text, now=now))
