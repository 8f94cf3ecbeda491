"""analyze(text) → Analysis: one GiNZA parse, then rules and the trained classifier."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from nlu import classifier, combine, lexicon, pipeline, topics, urgency
from nlu import intent as intent_mod
from nlu.analysis import TOPIC_IDS, Analysis, TopicHit
from nlu.classifier import RuleReading
from nlu.features import Parsed, content_lemmas, extract
from nlu.pii import find_pii
from nlu.text import TextView, detect_language, make_view
from nlu.when import extract_when

# The parser sees at most this many characters (cut at a sentence end); regex scans for safety
# keywords, PII and dates run over the whole message.
MAX_PARSE_CHARS = 1000
MIN_TOPIC_SCORE = 1.0

# problem areas for `compound` (two or more areas meeting: 8050, ダブルケア, 子どもの貧困…)
_AREAS = {
    "elderly_care": "care",
    "dementia": "care",
    "disability": "disability",
    "child_parenting": "child",
    "living_hardship": "money",
    "employment": "money",
    "hikikomori": "hikikomori",
    "isolation": "isolation",
    "housing": "housing",
    "health": "health",
    "mental_health": "health",
    "suicide_risk": "safety",
    "abuse": "safety",
    "domestic_violence": "safety",
    "young_carer": "carer",
    "double_care": "carer",
    "foreign_resident": "foreign",
    "disaster": "disaster",
    "hoarding": "hoarding",
    "rights_advocacy": "rights",
}
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)
_EN_WORD = re.compile(r"[a-z][a-z']{2,}")
_EN_STOP = {
    "the",
    "and",
    "you",
    "can",
    "for",
    "not",
    "but",
    "are",
    "was",
    "have",
    "with",
    "this",
    "that",
    "what",
    "please",
    "my",
    "me",
    "i'm",
    "don't",
    "can't",
    "will",
    "would",
    "there",
    "where",
    "when",
}


@dataclass(frozen=True)
class RulesResult:
    analysis: Analysis  # the rules' own reading (used alone when no model is trained)
    rules: RuleReading  # the same, as classifier features
    evidence: dict[str, list[str]]  # topic → lexicon evidence strings
    urgent_kinds: list[str]  # kinds of the urgency triggers that fired, first rule first


def _parse_prefix(norm: str) -> str:
    if len(norm) <= MAX_PARSE_CHARS:
        return norm
    cut = max(norm.rfind(ch, 0, MAX_PARSE_CHARS) for ch in "。\n！？!?")
    return norm[: cut + 1] if cut >= MAX_PARSE_CHARS // 2 else norm[:MAX_PARSE_CHARS]


def _compile_all() -> None:
    topics.model()
    urgency.model()
    intent_mod.model()
    lexicon.districts()


def _clean(text) -> str:
    if text is None:
        return ""
    return text if isinstance(text, str) else str(text)


def analyze(text: str, now: datetime | None = None) -> Analysis:
    """Read one resident message. Never raises on odd input (empty, emoji, 10,000 characters)."""
    text = _clean(text)
    _compile_all()
    classifier.model()
    view = make_view(text)
    prefix = _parse_prefix(view.norm)
    parsed = pipeline.parse(prefix, extract) if prefix.strip() else Parsed([], [], 0)
    return _analyze_parsed(view, parsed, now)


def analyze_many(
    texts: list[str], now: datetime | None = None, batch_size: int = 64
) -> list[Analysis]:
    """``analyze`` for a batch: GiNZA runs batched with ``nlp.pipe`` (backfills, evaluation)."""
    _compile_all()
    classifier.model()
    views, prefixes = prepare(texts)
    todo = [i for i, p in enumerate(prefixes) if p.strip()]
    parsed: list[Parsed] = [Parsed([], [], 0)] * len(views)
    for i, p in zip(
        todo, pipeline.parse_many([prefixes[i] for i in todo], extract, batch_size), strict=True
    ):
        parsed[i] = p
    return [_analyze_parsed(v, p, now) for v, p in zip(views, parsed, strict=True)]


def _analyze_parsed(view: TextView, parsed: Parsed, now: datetime | None) -> Analysis:
    reading = read_rules(view, parsed, now)
    mdl = classifier.model()
    if mdl is None:  # no trained model yet (bootstrapping `python -m nlu train`)
        return reading.analysis
    return combine.decide(reading, view, parsed, mdl)


def read_rules(view: TextView, parsed: Parsed, now: datetime | None) -> RulesResult:
    """The lexicon-and-rules reading: evidence for staff, features and the urgent floor."""
    text = view.text
    m = lexicon.MessageText(view, parsed.tokens)
    flat, lower = view.flat, m.lower
    language = detect_language(_URL.sub(" ", view.norm))

    findings, suppressed = urgency.assess(m)
    urgent_kind, urgent_reason = urgency.summarise(findings)
    urgent = urgent_kind is not None

    when = extract_when(view, now)
    pre_scores = topics.score_topics(m, language)
    pre_topics = {t for t, s in pre_scores.items() if s.score >= MIN_TOPIC_SCORE}
    if urgent_kind == "suicide":
        pre_topics.add("suicide_risk")
    third_party = (
        intent_mod.classify_about(flat, lower, topics=pre_topics, intent="consult") == "other"
    )
    intent = intent_mod.classify_intent(
        flat, lower, has_when=bool(when), topics=pre_topics, urgent=urgent, third_party=third_party
    )
    scores = topics.score_topics(m, language, intent) if language == "other" else pre_scores
    if urgent_kind == "suicide":
        scores["suicide_risk"].add(1.0, "緊急: 自殺・自傷")
    hits = [
        TopicHit(tid, round(1 - 0.5 ** scores[tid].score, 3), scores[tid].evidence[:6])
        for tid in TOPIC_IDS
        if scores[tid].score >= MIN_TOPIC_SCORE
    ]
    if intent in ("greeting", "checkin_ok") and not urgent:
        hits = []
    topic_ids = {h.id for h in hits}
    about = intent_mod.classify_about(flat, lower, topics=topic_ids, intent=intent)

    persons = [(e.start, e.end) for e in parsed.ents if e.label == "Person" and e.person_tokens]
    pii = find_pii(view, persons)

    lemmas = content_lemmas(parsed.tokens)
    if language == "other":
        lemmas += [w for w in _EN_WORD.findall(_URL.sub(" ", lower)) if w not in _EN_STOP]
    districts = [name for name, pats in lexicon.districts() if any(p.search(flat) for p in pats)]

    analysis = Analysis(
        text=text,
        topics=hits,
        urgent=urgent,
        urgent_kind=urgent_kind,
        urgent_reason=urgent_reason,
        intent=intent,
        about=about,
        compound=is_compound({h.id for h in hits}),
        when=when,
        pii=pii,
        language=language,
        lemmas=lemmas,
        districts=districts,
        risk="urgent" if urgent else "none",
        risk_score=1.0 if urgent else 0.0,
    )
    rules = RuleReading(
        topic_scores={t: s.score for t, s in scores.items() if s.score > 0},
        urgent_kinds=tuple(f.kind for f in findings),
        suppressed=tuple(sorted({x.why for x in suppressed})),
        intent=intent,
        about=about,
        language=language,
        has_when=bool(when),
    )
    evidence = {t: s.evidence[:6] for t, s in scores.items() if s.evidence}
    return RulesResult(analysis, rules, evidence, [x.kind for x in findings])


def is_compound(topic_ids: set[str]) -> bool:
    """Two or more problem areas meet (8050, ダブルケア, 子どもの貧困…)."""
    return len({_AREAS[t] for t in topic_ids if t in _AREAS}) >= 2 or bool(
        topic_ids & {"double_care", "young_carer"}
    )


def prepare(texts: list[str]) -> tuple[list[TextView], list[str]]:
    """Views and the parser's input (the prefix within the cap) for each text."""
    views = [make_view(_clean(t)) for t in texts]
    return views, [_parse_prefix(v.norm) for v in views]


def mask(text: str) -> str:
    """The message with personal data replaced by placeholders (［氏名］［電話番号］…)."""
    return analyze(text).masked_text()


def load() -> None:
    """Load GiNZA, the lexicons and the trained classifier now (readiness checks); idempotent."""
    pipeline.load()
    _compile_all()
    classifier.model()


def is_loaded() -> bool:
    return pipeline.is_loaded()
