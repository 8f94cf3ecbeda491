"""The final reading: the trained classifier decides, the rules give evidence and an urgent floor.

* risk: one score, ``risk_score = P(urgent) + ½·P(check)``, cut by the two thresholds in
  nlu/model/thresholds.json (chosen on cross-validated predictions, recall first). The lexicon's
  urgent raises the band to urgent (a floor); the model never switches a lexicon urgent off.
* about: the rules' label when the model gives it at least ``about_rule_min`` or is unsure
  (below ``about_model_sure``), else the model's most probable label.
* topics: the lexicon's topics plus each topic whose probability reaches its threshold (and
  ``model_topic_min``); evidence is the lexicon's terms when it found some, else the words that
  weighed most for the topic in the model.
* intent, about: the model's most probable label.
* urgent_reason (urgent and check): the rules' reasons with evidence, or the model's score with
  the words that weighed most toward danger.
"""

from __future__ import annotations

import re
from dataclasses import replace

from nlu import lexicon
from nlu.analysis import Analysis, TopicHit
from nlu.classifier import Model, Prediction, features
from nlu.features import Parsed, Tok
from nlu.text import TextView

# a model-only urgent names a kind from the topics it saw, in this order
_KIND_BY_TOPIC = (
    ("suicide_risk", "suicide"),
    ("domestic_violence", "violence"),
    ("abuse", "abuse"),
    ("disaster", "disaster"),
    ("dementia", "missing"),
    ("health", "medical"),
)
_FUNCTION_LIKE = re.compile(r"[ぁ-ん。、！？!?]+")
_MISSING = re.compile(r"(いない|いなく|帰って(こ|き)|見つからな|行方|ゆくえ|戻らな|もどらな|徘徊)")


def decide(reading, view: TextView, parsed: Parsed, model: Model) -> Analysis:
    """Combine the rules' reading (analyzer.RulesResult) with the model's prediction."""
    rule = reading.analysis
    blocks = features(view, parsed.tokens, reading.rules)
    pred = model.predict(blocks)
    th = model.thresholds

    # a bare place name (the answer to 「お住まいの町名は？」) gives the model nothing to read: its
    # few letters once made 「ぬまま」 look urgent; the lexicon's floor still stands
    model_score = 0.0 if rule.districts and only_places(view.flat) else pred.risk_score
    risk, score = band(model_score, rule.urgent, th["risk"])
    lexicon_conf = {h.id: h.confidence for h in rule.topics}
    topic_ids = choose_topics(pred.topics, set(lexicon_conf), th)
    hits = [
        TopicHit(
            t,
            round(max(pred.topics[t], lexicon_conf.get(t, 0.0)), 3),
            reading.evidence.get(t) or _model_evidence(model, blocks, view, parsed, t),
        )
        for t in pred.topics
        if t in topic_ids
    ]
    intent = max(pred.intent, key=pred.intent.__getitem__)
    about = choose_about(pred.about, rule.about, th)

    urgent_kind, reason = rule.urgent_kind, rule.urgent_reason
    explain = (pred, model, blocks, view, parsed)
    if risk == "urgent" and not rule.urgent:
        urgent_kind = _kind(set(topic_ids), reading.urgent_kinds, view.flat)
        reason = _model_reason("危険が差し迫っている可能性が高い", *explain)
    elif risk == "check":
        urgent_kind = None
        reason = _model_reason("危険の可能性（本人への確認が必要）", *explain)
    elif risk == "none":
        urgent_kind, reason = None, None

    from nlu.analyzer import is_compound

    return replace(
        rule,
        topics=hits,
        urgent=risk == "urgent",
        urgent_kind=urgent_kind,
        urgent_reason=reason,
        intent=intent,
        about=about,
        compound=is_compound(set(topic_ids)),
        risk=risk,
        risk_score=score,
    )


_PLACE_FILLER = re.compile(
    r"[0-9０-９一二三四五六七八九十〇\-ー－丁目番地号の、。，．,.!！?？~〜です。だよねにんでいすまる在住者から方]"
)


def only_places(flat: str) -> bool:
    """Whether the folded text is place names (町名, 番地) and filler such as 「です」 only."""
    rest = flat
    for _, patterns in lexicon.districts():
        for pattern in patterns:
            rest = pattern.sub("", rest)
    return rest != flat and not _PLACE_FILLER.sub("", rest)


def choose_topics(probs: dict[str, float], lexicon: set[str], thresholds: dict) -> set[str]:
    """The lexicon's topics, plus the model's where it is confident (its threshold, and at least
    ``thresholds["model_topic_min"]``): the lexicon keeps the labelling conventions of the
    shared eval set, the model adds what the lexicon has no words for."""
    floor = thresholds.get("model_topic_min", 0.0)
    return set(lexicon) | {
        t for t, p in probs.items() if p >= max(thresholds["topics"][t], floor)
    }


def choose_about(probs: dict[str, float], rule_about: str, thresholds: dict) -> str:
    """The rules' reading of who it is about when the model finds it plausible enough
    (``about_rule_min``) or is itself unsure (no label reaches ``about_model_sure``), else the
    model's most probable label."""
    if probs.get(rule_about, 0.0) >= thresholds.get("about_rule_min", 1.01):
        return rule_about
    if max(probs.values()) < thresholds.get("about_model_sure", 0.0):
        return rule_about
    return max(probs, key=probs.__getitem__)


def band(score: float, lexicon_urgent: bool, thresholds: dict) -> tuple[str, float]:
    """(risk level, risk_score) from the model's score and the lexicon's urgent floor."""
    if lexicon_urgent:
        return "urgent", round(max(score, thresholds["urgent"]), 3)
    if score >= thresholds["urgent"]:
        return "urgent", round(score, 3)
    if score >= thresholds["check"]:
        return "check", round(score, 3)
    return "none", round(score, 3)


def _kind(topic_ids: set[str], lexicon_kinds: list[str], flat: str) -> str:
    if lexicon_kinds:  # a trigger the rules switched off still names the kind of danger
        return lexicon_kinds[0]
    if _MISSING.search(flat) and topic_ids & {"dementia", "child_parenting", "disability"}:
        return "missing"
    for topic, kind in _KIND_BY_TOPIC:
        if topic in topic_ids:
            return kind
    return "suicide"


def _model_reason(
    what: str, pred: Prediction, model: Model, blocks, view: TextView, parsed: Parsed
) -> str:
    top = model.contributions(blocks, model.column("risk", "danger"))
    snippets = _snippets(top, view, parsed.tokens, limit=3)
    ev = "／".join(f"「{s}」" for s in snippets) if snippets else "文面全体"
    return f"{what}（モデル判定 {pred.risk_score:.2f}、根拠: {ev}）"


def _model_evidence(model: Model, blocks, view: TextView, parsed: Parsed, topic: str) -> list[str]:
    top = model.contributions(blocks, model.column("topics", topic))
    return ["モデル: " + s for s in _snippets(top, view, parsed.tokens, limit=2)]


def _snippets(
    contribs: list[tuple[str, float]], view: TextView, tokens: list[Tok], limit: int
) -> list[str]:
    """Original-text pieces for the features that weighed most (positive contributions)."""
    out: list[str] = []
    for feat, weight in contribs:
        if weight <= 0 or len(out) >= limit:
            break
        piece = (_surface(feat, view, tokens) or "").strip("、。，．,.!?！？ 　")
        if len(piece) < 2 or _FUNCTION_LIKE.fullmatch(piece) and len(piece) < 3:
            continue  # a particle or an ending is no evidence a person can read
        if any(piece in o for o in out):
            continue
        out = [o for o in out if o not in piece] + [piece]
    return out


def _surface(feat: str, view: TextView, tokens: list[Tok]) -> str | None:
    kind, _, body = feat.partition(":")
    if kind in ("w", "d"):
        norm = body.partition(">")[2] or body if kind == "d" else body
        for t in tokens:
            if t.norm.lower() == norm and len(t.text.strip()) > 1:
                s, e = view.orig_span(t.start, t.end)
                return view.text[s:e].strip() or None
    if kind in ("c", "w"):
        needle = body
    elif kind == "b":
        needle = body.replace("<s>", "").replace("|", "")
    elif kind == "d":
        head, _, child = body.partition(">")
        needle = child if len(child) >= len(head) else head
    else:
        return None
    if len(needle) < 2:
        return None
    i = view.flat.find(needle)
    if i < 0:
        return None
    s, e = view.flat_span_to_norm(i, i + len(needle))
    os_, oe = view.orig_span(s, e)
    return view.text[os_:oe].strip() or None
