"""Urgency: is someone's life or safety at risk now? Rules in nlu/data/urgent.toml.

Recall comes first. A trigger fires unless its context clearly switches it off:
* negated      : the predicate right after the trigger is negated (GiNZA morphology: ない/ぬ/ず)
* conditional  : 〜たら/〜ば/〜ても (Inflection 仮定形, て+も) or もし in the clause
* conjecture   : 〜そう (倒れそうなくらい忙しい)
* history      : a distant past in the sentence (昔, 去年, 3年前, 子どもの頃), or a past-tense
                 trigger in a message that says the matter is resolved
                 (今は落ち着いて, 見つかりました),
                 unless the trigger's clause has a present marker (今, まだ, 今日も, 止まらない)
* fiction      : drama, film, news, a dream in the same sentence
* hyperbole    : the trigger is part of a hyperbole pattern (死にたいくらい恥ずかしい)
Safety scans run over the whole message (regex channel), even beyond the parser cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlu.features import (
    Chain,
    chain_after,
    chain_from_surface,
    clause_of,
    sentence_spans,
    span_containing,
)
from nlu.lexicon import Hit, Matcher, MessageText, load_toml, regex_list


@dataclass
class Rule:
    kind: str
    reason: str
    matcher: Matcher
    requires: list[re.Pattern]
    unless: list[re.Pattern]
    blocked_by: set[str]
    switch_kind: str | None
    switch_if: list[re.Pattern]
    switch_unless: list[re.Pattern]


@dataclass
class UrgencyModel:
    rules: list[Rule]
    frames: dict[str, list[re.Pattern]]


@lru_cache(maxsize=1)
def model() -> UrgencyModel:
    data = load_toml("urgent.toml")
    frames = {k: regex_list(v) for k, v in data["frames"].items()}
    rules = []
    for r in data["rules"]:
        rules.append(
            Rule(
                kind=r["kind"],
                reason=r["reason"],
                matcher=Matcher.build(r),
                requires=regex_list(r.get("requires", [])),
                unless=regex_list(r.get("unless", [])),
                blocked_by=set(r.get("blocked_by", [])),
                switch_kind=r.get("switch_kind"),
                switch_if=regex_list(r.get("switch_if", [])),
                switch_unless=regex_list(r.get("switch_unless", [])),
            )
        )
    return UrgencyModel(rules, frames)


@dataclass(frozen=True)
class UrgentFinding:
    kind: str
    reason: str
    evidence: str


@dataclass(frozen=True)
class Suppressed:
    evidence: str
    why: str


def _any(patterns: list[re.Pattern], s: str) -> re.Match | None:
    for p in patterns:
        mt = p.search(s)
        if mt:
            return mt
    return None


class _Context:
    """Sentence/clause frames for hits, computed lazily on the folded text."""

    def __init__(self, m: MessageText, frames: dict[str, list[re.Pattern]]):
        self.m = m
        self.frames = frames
        self.folded = m.view.folded
        self.sents = sentence_spans(self.folded)
        flat = m.view.flat
        self.resolved = bool(_any(frames["resolved"], flat))

    def _flat(self, s: int, e: int) -> str:
        return re.sub(r"\s", "", self.folded[s:e])

    def why_blocked(self, rule: Rule, hit: Hit) -> str | None:
        sent = span_containing(self.sents, hit.start)
        sent_text = self._flat(*sent)
        if _any(rule.unless, sent_text):
            return "除外表現"
        clause = clause_of(self.folded, sent, hit.start, hit.end)
        clause_text = self._flat(*clause)
        b = rule.blocked_by
        chain: Chain | None = None
        if hit.channel in ("norm", "surface", "regex"):
            chain = chain_after(self.m.tokens, hit.end) or chain_from_surface(self.m.view, hit.end)
        else:
            chain = Chain()
        hit_text = self._flat(hit.start, hit.end)
        if "hyperbole" in b:
            for p in self.frames["hyperbole"]:
                for mt in p.finditer(sent_text):
                    if hit_text and hit_text in mt.group(0):
                        return "誇張表現"
        if "fiction" in b and _any(self.frames["fiction"], sent_text):
            return "作り話・報道・夢の話"
        present = bool(_any(self.frames["present"], clause_text))
        if (
            "history" in b
            and present
            and chain.past
            and _any(self.frames["distal_past"], clause_text)
        ):
            return "過去の出来事"
        if "history" in b and not present:
            if _any(self.frames["distal_past"], sent_text):
                return "過去の出来事"
            if self.resolved and (chain.past or re.search(r"(た|ました|だ)$", clause_text)):
                return "解決済みの出来事"
        if "negated" in b and chain.negated:
            return "否定"
        if "conditional" in b and (
            chain.conditional or (_any(self.frames["hypothetical"], clause_text) and not present)
        ):
            return "仮定"
        if "conjecture" in b and chain.conjecture:
            return "様態（〜そう）"
        return None


def assess(m: MessageText) -> tuple[list[UrgentFinding], list[Suppressed]]:
    um = model()
    ctx = _Context(m, um.frames)
    flat = m.view.flat
    lower = m.lower
    findings: list[UrgentFinding] = []
    suppressed: list[Suppressed] = []
    for rule in um.rules:
        hits = rule.matcher.find(m)
        if not hits:
            continue
        if rule.requires and not (_any(rule.requires, flat) or _any(rule.requires, lower)):
            continue
        for hit in hits:
            s, e = m.view.orig_span(hit.start, hit.end)
            evidence = m.view.text[s:e].strip() or hit.term
            why = ctx.why_blocked(rule, hit)
            if why:
                suppressed.append(Suppressed(evidence, why))
                continue
            kind = rule.kind
            if (
                rule.switch_kind
                and (_any(rule.switch_if, flat) or _any(rule.switch_if, lower))
                and not (_any(rule.switch_unless, flat) or _any(rule.switch_unless, lower))
            ):
                kind = rule.switch_kind
            findings.append(UrgentFinding(kind, rule.reason, evidence))
    return findings, suppressed


def summarise(findings: list[UrgentFinding]) -> tuple[str | None, str | None]:
    """(urgent_kind, urgent_reason) from the findings, first rule first."""
    if not findings:
        return None, None
    first = findings[0]
    evid = []
    for f in findings:
        if f.evidence not in evid:
            evid.append(f.evidence)
    reasons = []
    for f in findings:
        if f.reason not in reasons:
            reasons.append(f.reason)
    reason = "、".join(reasons[:3]) + "（根拠: " + "／".join(f"「{x}」" for x in evid[:4]) + "）"
    return first.kind, reason
