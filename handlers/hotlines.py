"""Emergency and consultation phone lines for an urgent kind and/or topics.

    hotlines_for(analysis.urgent_kind, analysis.topic_ids, pack)

The pack's ``hotline_rules`` say which lines to offer, in order: first the rule for the
urgent kind (e.g. medical → 119; violence → 110, #8008, DV相談＋; abuse → 189, 110;
suicide → いのちの電話, よりそいホットライン, こころの健康相談統一ダイヤル, 119; missing → 110;
disaster → 119, 110), then lines for the topics (e.g. domestic_violence → #8008, DV相談＋),
without duplicates. Every hotline carries the official body that publishes it (``source``).
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.content.schema import ContentPack, Hotline

# When nlu flags urgency but its kind implies a topic, the topic's lines are relevant too.
_KIND_TOPICS: dict[str, tuple[str, ...]] = {
    "suicide": ("suicide_risk",),
    "violence": (),
    "abuse": ("abuse",),
}


def rule_notes(urgent_kind: str | None, pack: ContentPack) -> list[str]:
    """Extra guidance attached to the urgent kind's rule (e.g. 自傷でけが → 119)."""
    return [r.note for r in pack.hotline_rules if r.urgent_kind == urgent_kind and r.note]


def hotlines_for(
    urgent_kind: str | None, topic_ids: Sequence[str], pack: ContentPack
) -> list[Hotline]:
    """Lines to show, most important first. Empty when nothing applies."""
    ids: list[str] = []
    if urgent_kind:
        for rule in pack.hotline_rules:
            if rule.urgent_kind == urgent_kind:
                ids += rule.hotlines
    topics = list(dict.fromkeys([*topic_ids, *_KIND_TOPICS.get(urgent_kind or "", ())]))
    for topic in topics:
        for rule in pack.hotline_rules:
            if rule.topic == topic:
                ids += rule.hotlines
    return [pack.hotline(i) for i in dict.fromkeys(ids)]
