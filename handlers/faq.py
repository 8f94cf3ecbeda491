"""FAQ retrieval: BM25 over the pack's FAQ entries, on lemma lists.

The index never sees spaCy: it is built with a ``lemmatize`` callable (in production the nlu
lemmatizer, in tests ``ngram_lemmatize``) and searched with the lemmas nlu already produced
for the message (``Analysis.lemmas``), plus its topic ids for a small bonus.

    index = FaqIndex(pack.faq, lemmatize)
    matches = index.search(analysis.lemmas, analysis.topic_ids)
    decision = decide(matches)      # "answer" | "candidates" | "none"

Only pack entries are ever returned: the bot never composes an answer of its own. A topic
overlap alone never produces a match; at least one query lemma must occur in the entry.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from handlers.content.schema import FaqEntry

Lemmatize = Callable[[str], list[str]]

# Field weights: how many times a field's lemmas count in an entry's bag of words.
QUESTION_WEIGHT = 2
KEYWORD_WEIGHT = 2
CATEGORY_WEIGHT = 1

# Decision thresholds (idf-weighted coverage of the query by an entry, 0..1).
MIN_COVERAGE = 0.3  # below: not a match at all
ANSWER_COVERAGE = 0.6  # at or above, and clearly ahead of the next entry: answer directly
ANSWER_MARGIN = 1.25  # top score must be this many times the runner-up's
TOPIC_BONUS = 0.5  # added per shared topic, scaled by the entry's BM25 score share

_STOP = frozenset((
    "ある", "いる", "する", "なる", "できる", "ない", "こと", "もの",
    "よう", "ため", "とき", "方", "事", "物", "何", "どこ", "いつ",
    "だれ", "誰", "です", "ます", "ください", "どう", "どの", "私",
    "わたし", "僕", "自分", "これ", "それ", "あれ", "教える", "知る",
    "思う", "いう", "言う", "?", "！", "!", "。", "、",
))


def normalize_token(token: str) -> str:
    return unicodedata.normalize("NFKC", token).strip().lower()


_RUN = re.compile(r"[\u4e00-\u9fff\u3005\u30a0-\u30ffー]+|[a-z0-9#]+|[\u3040-\u309f]+")


def ngram_lemmatize(text: str) -> list[str]:
    """A dependency-free stand-in for the nlu lemmatizer: kanji/katakana runs as character
    bigrams (plus the run itself when short), latin words and numbers as-is; hiragana runs
    (particles, endings) are dropped. Good enough for tests and as an offline fallback."""
    tokens: list[str] = []
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if re.fullmatch(r"[\u3040-\u309f]+", run):
            continue
        if re.fullmatch(r"[a-z0-9#]+", run):
            tokens.append(run)
            continue
        if len(run) == 1:
            tokens.append(run)
            continue
        if len(run) <= 4:
            tokens.append(run)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float  # BM25 + topic bonus
    coverage: float = 0.0  # idf-weighted share of the query's lemmas found in the entry
    matched: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaqDecision:
    kind: Literal["answer", "candidates", "none"]
    matches: list[FaqMatch] = field(default_factory=list)  # 1 for answer, ≤3 for candidates

    @property
    def entry(self) -> FaqEntry | None:
        return self.matches[0].entry if self.kind == "answer" else None

    @property
    def entries(self) -> list[FaqEntry]:
        return [m.entry for m in self.matches]


class FaqIndex:
    """Okapi BM25 over FAQ entries (question, keywords and category)."""

    def __init__(
        self,
        entries: Iterable[FaqEntry],
        lemmatize: Lemmatize,
        *,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> None:
        self.entries: list[FaqEntry] = list(entries)
        self.lemmatize = lemmatize
        self.k1 = k1
        self.b = b
        self._docs: list[Counter[str]] = [self._bag(e) for e in self.entries]
        self._lengths = [sum(d.values()) for d in self._docs]
        n = len(self._docs)
        self._avgdl = (sum(self._lengths) / n) if n else 0.0
        df: Counter[str] = Counter()
        for doc in self._docs:
            df.update(doc.keys())
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        # An unseen query lemma weighs like the rarest possible term, so an unrelated
        # question (mostly unseen words) gets low coverage everywhere.
        self._unseen_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0

    def _terms(self, text: str) -> list[str]:
        tokens = (normalize_token(x) for x in self.lemmatize(text))
        return [t for t in tokens if t and t not in _STOP]

    def _bag(self, entry: FaqEntry) -> Counter[str]:
        bag: Counter[str] = Counter()
        for _ in range(QUESTION_WEIGHT):
            bag.update(self._terms(entry.question))
        for keyword in entry.keywords:
            for _ in range(KEYWORD_WEIGHT):
                bag.update(self._terms(keyword))
        for _ in range(CATEGORY_WEIGHT):
            bag.update(self._terms(entry.category))
        return bag

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen_idf)

    def search(
        self, lemmas: Sequence[str], topic_ids: Sequence[str] = (), limit: int = 10
    ) -> list[FaqMatch]:
        """Entries sharing at least one lemma with the query, best first."""
        unique = dict.fromkeys(normalize_token(x) for x in lemmas)
        query = [t for t in unique if t and t not in _STOP]
        if not query or not self._docs:
            return []
        total_idf = sum(self.idf(t) for t in query)
        topics = set(topic_ids)
        matches: list[FaqMatch] = []
        for entry, doc, length in zip(self.entries, self._docs, self._lengths, strict=True):
            hit = [t for t in query if t in doc]
            if not hit:
                continue
            bm25 = 0.0
            for term in hit:
                tf = doc[term]
                denom = tf + self.k1 * (1 - self.b + self.b * length / self._avgdl)
                bm25 += self.idf(term) * tf * (self.k1 + 1) / denom
            coverage = sum(self.idf(t) for t in hit) / total_idf
            shared = len(topics & set(entry.topics))
            bonus = TOPIC_BONUS * shared * bm25 / (1 + shared) if shared else 0.0
            matches.append(FaqMatch(entry, bm25 + bonus, coverage, tuple(hit)))
        matches.sort(key=lambda m: (m.score, m.coverage), reverse=True)
        return matches[:limit]

    def search_text(
        self, text: str, topic_ids: Sequence[str] = (), limit: int = 10
    ) -> list[FaqMatch]:
        """Convenience: lemmatize ``text`` with the index's lemmatizer, then search."""
        return self.search(self.lemmatize(text), topic_ids, limit)


def decide(matches: Sequence[FaqMatch], max_candidates: int = 3) -> FaqDecision:
    """Answer when one entry clearly fits, offer up to 3 candidates when unsure, else none."""
    viable = [m for m in matches if m.coverage >= MIN_COVERAGE and m.score > 0]
    if not viable:
        return FaqDecision("none")
    top = viable[0]
    runner_up = viable[1] if len(viable) > 1 else None
    clear_lead = runner_up is None or top.score >= ANSWER_MARGIN * runner_up.score
    if top.coverage >= ANSWER_COVERAGE and clear_lead:
        return FaqDecision("answer", [top])
    return FaqDecision("candidates", list(viable[:max_candidates]))
