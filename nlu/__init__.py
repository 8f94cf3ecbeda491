"""Japanese understanding for Madoguchi: ``analyze(text) -> Analysis`` with GiNZA.

    from nlu import analyze, mask, load, is_loaded
    a = analyze("母が倒れて動かない")
    a.urgent, a.urgent_kind, a.topic_ids

Importing nlu is cheap: the contract (nlu.analysis, the vocabulary from common/) is plain
data, and the reader (nlu.analyzer, its lexicons and GiNZA) is imported on first use.
See nlu/README.md for the design and the measured quality.
"""

from typing import Any

from nlu.analysis import (
    ABOUT,
    INTENTS,
    RISK_LEVELS,
    TOPIC_IDS,
    URGENT_KINDS,
    Analysis,
    PiiSpan,
    TimeRange,
    TopicHit,
)

_READER = ("analyze", "analyze_many", "is_loaded", "load", "mask")

__all__ = [
    "ABOUT",
    "INTENTS",
    "RISK_LEVELS",
    "TOPIC_IDS",
    "URGENT_KINDS",
    "Analysis",
    "PiiSpan",
    "TimeRange",
    "TopicHit",
    "analyze",
    "analyze_many",
    "is_loaded",
    "load",
    "mask",
]


def __getattr__(name: str) -> Any:
    if name in _READER:
        from nlu import analyzer

        return getattr(analyzer, name)
    raise AttributeError(f"module 'nlu' has no attribute {name!r}")
