"""Japanese understanding for Madoguchi: ``analyze(text) -> Analysis`` with GiNZA.

    from nlu import analyze, mask, load, is_loaded
    a = analyze("母が倒れて動かない")
    a.urgent, a.urgent_kind, a.topic_ids

See nlu/README.md for the design and the measured quality.
"""

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
from nlu.analyzer import analyze, analyze_many, is_loaded, load, mask

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
