"""Data-driven term matching: compile the TOML lexicons in nlu/data/ and find them in a message.

A plain term is matched on two channels:

* the *norm channel*: the concatenated Sudachi normalized forms of the message tokens, so
  conjugations and 表記ゆれ are absorbed (死にたくて → 死ぬ+たい, 子ども/こども → 子供,
  ひきこもり → 引き籠もり). The term itself is normalised the same way when compiled.
* the *surface channel*: the folded surface text (hiragana, NFKC, no spaces), plus the term's
  Sudachi reading in hiragana, so hiragana-only messages match (にんちしょう, たおれて).

A term written ``re:...`` is a regular expression on the folded surface text. English
expressions are matched on the lower-cased text with spaces.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nlu import pipeline
from nlu.text import fold, fold_kana

DATA_DIR = Path(__file__).parent / "data"
_HIRA_ONLY = re.compile(r"^[\u3041-\u309f\u30fc]+$")
_KANA_ONLY = re.compile(r"^[\u3041-\u30ff\u30fc]+$")
_KATA_ONLY = re.compile(r"^[\u30a1-\u30ff\u30fc]+$")


def load_toml(name: str) -> dict:
    with open(DATA_DIR / name, "rb") as fh:
        return tomllib.load(fh)


def compile_regex(pattern: str) -> re.Pattern:
    return re.compile(fold_kana(pattern), re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    term: str  # the lexicon entry that fired
    start: int  # span in the normalised text (TextView.norm)
    end: int
    weight: float
    channel: str  # "norm", "surface", "regex" or "en"


@dataclass
class Term:
    source: str
    weight: float
    norm_key: str | None = None
    literals: list[str] = field(default_factory=list)  # folded surface strings, searched in flat
    regex: re.Pattern | None = None
    english: bool = False
    exact_tokens: bool = False  # short kana terms: only whole tokens on the norm channel
    raw: bool = False  # short katakana terms: match the unfolded surface (バイト ≠ やばいと)


def _compile_plain(term: str, weight: float) -> Term:
    toks = pipeline.tokenize_only(term)
    norm_key = fold("".join(n for _, n, _ in toks)) or None
    literal = fold(re.sub(r"\s", "", term))
    literals = [literal]
    reading = fold("".join(r for _, _, r in toks))
    kanji_chars = sum(1 for c in term if "\u4e00" <= c <= "\u9fff")
    if (
        reading
        and reading != literal
        and len(reading) >= 3
        and len(term) >= 2
        and _HIRA_ONLY.match(reading)
        and kanji_chars >= 1
    ):
        literals.append(reading)
    short_kana = len(term) <= 2 and bool(_KANA_ONLY.match(term))
    if short_kana:
        # too ambiguous as a substring (うつ in うつる): norm channel, whole tokens only
        literals = []
    raw = len(term) <= 4 and bool(_KATA_ONLY.match(term))
    if raw:
        literals = [term]
    return Term(
        term, weight, norm_key=norm_key, literals=literals, exact_tokens=short_kana, raw=raw
    )


def compile_terms(terms: list[str], weight: float = 1.0) -> list[Term]:
    out = []
    for t in terms:
        if t.startswith("re:"):
            out.append(Term(t, weight, regex=compile_regex(t[3:])))
        else:
            out.append(_compile_plain(t, weight))
    return out


def compile_english(patterns: list[str], weight: float = 1.0) -> list[Term]:
    return [
        Term("en:" + p, weight, regex=re.compile(p, re.IGNORECASE), english=True) for p in patterns
    ]


class Matcher:
    """A compiled list of terms; ``find`` returns every hit in a message."""

    def __init__(self, terms: list[Term]):
        self.terms = terms

    @classmethod
    def build(
        cls,
        spec: dict,
        strong_key: str = "terms",
        weak_key: str = "weak",
        en_key: str = "en",
        en_weak_key: str = "en_weak",
    ) -> Matcher:
        terms = compile_terms(spec.get(strong_key, []), 1.0)
        terms += compile_terms(spec.get(weak_key, []), 0.5)
        terms += compile_english(spec.get(en_key, []), 1.0)
        terms += compile_english(spec.get(en_weak_key, []), 0.5)
        return cls(terms)

    def find(self, m: MessageText) -> list[Hit]:
        hits: list[Hit] = []
        for term in self.terms:
            hits.extend(m.find_term(term))
        return hits


class MessageText:
    """The searchable forms of one message (built once, shared by all matchers)."""

    def __init__(self, view, tokens):
        self.view = view
        self.tokens = tokens  # list of nlu.features.Tok (parsed prefix only)
        parts, starts = [], []
        pos = 0
        for t in tokens:
            key = fold(t.norm)
            parts.append(key)
            starts.append(pos)
            pos += len(key)
        self.norm_joined = "".join(parts)
        self._starts = starts
        self._ends = [s + len(p) for s, p in zip(starts, parts, strict=True)]
        self._start_set = set(starts)
        self._end_set = set(self._ends)
        self.lower = view.norm.lower()
        self._cache: dict[int, list[Hit]] = {}

    def _token_index(self, joined_pos: int) -> int:
        # binary search for the token containing joined_pos
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= joined_pos:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def find_term(self, term: Term) -> list[Hit]:
        cached = self._cache.get(id(term))
        if cached is not None:
            return cached
        hits: list[Hit] = []
        view = self.view
        if term.regex is not None:
            if term.english:
                for mt in term.regex.finditer(self.lower):
                    if mt.end() > mt.start():
                        hits.append(Hit(term.source, mt.start(), mt.end(), term.weight, "en"))
            else:
                for mt in term.regex.finditer(view.flat):
                    if mt.end() > mt.start():
                        s, e = view.flat_span_to_norm(mt.start(), mt.end())
                        hits.append(Hit(term.source, s, e, term.weight, "regex"))
        else:
            seen: set[tuple[int, int]] = set()
            key = term.norm_key
            if key and self.norm_joined:
                i = self.norm_joined.find(key)
                while i >= 0:
                    j = i + len(key)
                    ok = i in self._start_set or not term.exact_tokens
                    if term.exact_tokens:
                        ok = i in self._start_set and j in self._end_set
                    if ok:
                        a = self._token_index(i)
                        b = self._token_index(j - 1)
                        s, e = self.tokens[a].start, self.tokens[b].end
                        seen.add((s, e))
                        hits.append(Hit(term.source, s, e, term.weight, "norm"))
                    i = self.norm_joined.find(key, i + 1)
            haystack = view.flat_raw if term.raw else view.flat
            for lit in term.literals:
                if not lit:
                    continue
                i = haystack.find(lit)
                while i >= 0:
                    s, e = view.flat_span_to_norm(i, i + len(lit))
                    if not any(a <= s < b or a < e <= b for a, b in seen):
                        hits.append(Hit(term.source, s, e, term.weight, "surface"))
                    i = haystack.find(lit, i + 1)
        self._cache[id(term)] = hits
        return hits

    def search(self, pattern: re.Pattern) -> re.Match | None:
        return pattern.search(self.view.flat)


def regex_list(patterns: list[str]) -> list[re.Pattern]:
    return [compile_regex(p[3:] if p.startswith("re:") else p) for p in patterns]


@lru_cache(maxsize=1)
def districts() -> list[tuple[str, list[re.Pattern]]]:
    data = load_toml("districts.toml")
    out = []
    for d in data["district"]:
        pats = [compile_regex(p) for p in d["patterns"]]
        out.append((d["name"], pats))
    return out
