"""The result of reading one resident message: the contract between nlu/ and handlers/.

Everything here is plain data (no spaCy objects), so it can be stored as JSON,
shown to staff and compared in tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from common.vocabulary import ABOUT, INTENTS, RISK_LEVELS, TOPIC_IDS, URGENT_KINDS

# The vocabulary is shared with every layer (common/); nlu/ re-exports it as its contract.
__all__ = [
    "ABOUT", "INTENTS", "PLACEHOLDERS", "RISK_LEVELS", "TOPIC_IDS", "URGENT_KINDS",
    "Analysis", "PiiSpan", "TimeRange", "TopicHit", "mask_spans",
]

PLACEHOLDERS = {
    "person": "［氏名］",
    "phone": "［電話番号］",
    "email": "［メール］",
    "address": "［住所］",
    "postal_code": "［郵便番号］",
    "my_number": "［マイナンバー］",
}


@dataclass(frozen=True)
class TopicHit:
    id: str
    confidence: float
    evidence: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TimeRange:
    """A candidate period the resident means, timezone-aware (Asia/Tokyo)."""

    start: datetime
    end: datetime
    text: str  # the expression it came from, e.g. "来週の火曜の午後"


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: str  # person, phone, email, address, postal_code, my_number
    text: str


@dataclass(frozen=True)
class Analysis:
    text: str
    topics: list[TopicHit] = field(default_factory=list)
    urgent: bool = False  # True iff risk == "urgent"
    urgent_kind: str | None = None  # one of URGENT_KINDS when urgent
    urgent_reason: str | None = None  # short Japanese explanation for staff, with evidence
    intent: str = "consult"
    about: str = "self"
    compound: bool = False
    when: list[TimeRange] = field(default_factory=list)
    pii: list[PiiSpan] = field(default_factory=list)
    language: str = "ja"  # "ja" or "other"
    lemmas: list[str] = field(default_factory=list)  # content-word normalized lemmas, for retrieval
    districts: list[str] = field(default_factory=list)  # 町名 mentioned (e.g. "桜山"), for routing
    risk: str = "none"  # one of RISK_LEVELS
    risk_score: float = 0.0  # 0–1, the reader's belief that someone is in danger now

    @property
    def topic_ids(self) -> list[str]:
        return [t.id for t in self.topics]

    def masked_text(self) -> str:
        """The text with every PII span replaced by a placeholder such as ［電話番号］."""
        return mask_spans(self.text, self.pii)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["topics"] = [t.id for t in self.topics]
        data["topic_details"] = [asdict(t) for t in self.topics]
        data["when"] = [
            {"start": r.start.isoformat(), "end": r.end.isoformat(), "text": r.text}
            for r in self.when
        ]
        return data


def mask_spans(text: str, spans: list[PiiSpan]) -> str:
    """Replace each span with its placeholder (［氏名］［電話番号］…); overlapping spans merge."""
    out, pos = [], 0
    for sp in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if sp.start < pos:
            continue
        out.append(text[pos : sp.start])
        out.append(PLACEHOLDERS.get(sp.kind, "［個人情報］"))
        pos = sp.end
    out.append(text[pos:])
    return "".join(out)
