"""The trained classifier: features from GiNZA's plain data, and the linear model that reads them.

Features (all from the one GiNZA parse, see ``features``):
* tokens   : Sudachi normalized forms and their bigrams (子供/子ども/こども meet),
* parse    : dependency pairs head>child on normalized forms (死ぬ>ない, 殴る>夫),
* chars    : character 2–3-grams of the folded, space-free text (hiragana-only, spaced and
             unpunctuated writing, Chinese and other languages still share features),
* rules    : what the lexicons and rules found (topic scores, urgency triggers and why one was
             switched off, rule intent/about, language, length).
Each block is L2-normalised on its own (then weighted, BLOCK_WEIGHTS), so a long story does not
outweigh a one-liner. ja_ginza's mean word vector was tried as a fifth block and dropped: in
cross-validation it changed nothing measurable and tripled training time.

The model is plain numpy at run time (weights, vocabulary, thresholds in nlu/model/); training
(nlu/training.py) uses scikit-learn logistic regression and writes those files.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlu.analysis import ABOUT, INTENTS, TOPIC_IDS
from nlu.features import Tok
from nlu.text import TextView

MODEL_DIR = Path(__file__).resolve().parent / "model"
WEIGHTS = "classifier.npz"
META = "meta.json"
THRESHOLDS = "thresholds.json"
# chosen on one cross-validation fold: words count double, dependency pairs half
BLOCK_WEIGHTS = {"words": 2.0, "deps": 0.5, "chars": 1.0}
_SKIP_POS = {"PUNCT", "SPACE"}
_WS = re.compile(r"\s+")
_URL = re.compile(r"(?:https?://|www\.)[\x21-\x7e]+", re.IGNORECASE)

# outputs, in column order of the weight matrix; every column is a one-vs-rest logistic
# regression. Risk is ordinal: "urgent" = P(urgent), "danger" = P(urgent or check).
HEADS: dict[str, tuple[str, ...]] = {
    "topics": TOPIC_IDS,
    "risk": ("urgent", "danger"),
    "intent": INTENTS,
    "about": ABOUT,
}


@dataclass(frozen=True)
class RuleReading:
    """What the lexicons and rules found in a message: features for the model, 根拠 for staff."""

    topic_scores: dict[str, float]
    urgent_kinds: tuple[str, ...]
    suppressed: tuple[str, ...]  # why a trigger was switched off (過去の出来事, 誇張表現…)
    intent: str
    about: str
    language: str
    has_when: bool


def _length_bucket(n: int) -> str:
    for limit in (8, 20, 50, 120, 300):
        if n < limit:
            return f"<{limit}"
    return ">=300"


def _without_urls(view: TextView, tokens: list[Tok]) -> tuple[str, list[Tok]]:
    """The folded text and the tokens outside links: a link says nothing about a worry, and its
    letters made a bare URL look like one. Links are found where spaces still end them."""
    spans = [m.span() for m in _URL.finditer(view.norm)]
    if not spans:
        return view.flat, tokens

    def in_link(start: int, end: int) -> bool:
        return any(start < e and end > s for s, e in spans)

    flat = "".join(
        ch for ch, i in zip(view.flat, view.flat_to_norm, strict=False) if not in_link(i, i + 1)
    )
    return flat, [t for t in tokens if not in_link(t.start, t.end)]


def features(view: TextView, tokens: list[Tok], rules: RuleReading) -> dict[str, dict[str, float]]:
    """Feature blocks (name → {feature: value}), each L2-normalised."""
    flat, tokens = _without_urls(view, tokens)
    words: dict[str, float] = {}
    deps: dict[str, float] = {}
    prev = "<s>"
    for t in tokens:
        if t.pos in _SKIP_POS or not t.norm.strip():
            continue
        norm = _WS.sub("", t.norm.lower())
        words["w:" + norm] = 1.0
        words[f"b:{prev}|{norm}"] = 1.0
        prev = norm
    by_index = {t.i: t for t in tokens}
    for t in tokens:
        if t.pos in _SKIP_POS or t.head == t.i or not t.norm.strip():
            continue
        head = by_index.get(t.head)
        if head is None:
            continue
        deps[f"d:{_WS.sub('', head.norm.lower())}>{_WS.sub('', t.norm.lower())}"] = 1.0
    chars: dict[str, float] = {}
    for n in (2, 3):
        for i in range(len(flat) - n + 1):
            chars["c:" + flat[i : i + n]] = 1.0
    rule: dict[str, float] = {}
    for tid, score in rules.topic_scores.items():
        if score >= 1.0:
            rule["r:topic:" + tid] = 1.0
        elif score > 0:
            rule["r:topicw:" + tid] = 1.0
    for kind in rules.urgent_kinds:
        rule["r:urgent:" + kind] = 1.0
    if rules.urgent_kinds:
        rule["r:urgent"] = 1.0
    for why in rules.suppressed:
        rule["r:suppressed:" + why] = 1.0
    rule["r:intent:" + rules.intent] = 1.0
    rule["r:about:" + rules.about] = 1.0
    rule["r:lang:" + rules.language] = 1.0
    rule["r:len:" + _length_bucket(len(flat))] = 1.0
    if rules.has_when:
        rule["r:when"] = 1.0
    if "?" in flat or flat[-1:] == "か":
        rule["r:question"] = 1.0
    blocks = {"words": words, "deps": deps, "chars": chars}
    for name, block in blocks.items():
        if block:
            v = BLOCK_WEIGHTS[name] / math.sqrt(len(block))
            for k in block:
                block[k] = v
    blocks["rules"] = rule
    return blocks


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


@dataclass(frozen=True)
class Prediction:
    topics: dict[str, float]  # probability per topic
    risk: dict[str, float]  # P(urgent), P(danger) = P(urgent or check)
    intent: dict[str, float]  # one-vs-rest probability per intent
    about: dict[str, float]

    @property
    def risk_levels(self) -> dict[str, float]:
        urgent = self.risk["urgent"]
        danger = max(self.risk["danger"], urgent)
        return {"urgent": urgent, "check": danger - urgent, "none": 1 - danger}

    @property
    def risk_score(self) -> float:
        """Expected danger P(urgent) + ½·P(check) = ½·(P(urgent) + P(danger)); the bands cut it."""
        return 0.5 * (self.risk["urgent"] + max(self.risk["danger"], self.risk["urgent"]))


@dataclass
class Model:
    vocab: dict[str, int]
    weights: np.ndarray  # (len(vocab), outputs) float32
    bias: np.ndarray  # (outputs,)
    thresholds: dict
    meta: dict = field(default_factory=dict)

    def logits(self, blocks: dict[str, dict[str, float]]) -> np.ndarray:
        idx, vals = [], []
        for block in blocks.values():
            for k, v in block.items():
                j = self.vocab.get(k)
                if j is not None:
                    idx.append(j)
                    vals.append(v)
        out = self.bias.copy()
        if idx:
            out += np.asarray(vals, dtype=np.float32) @ self.weights[idx]
        return out

    def predict(self, blocks: dict[str, dict[str, float]]) -> Prediction:
        z = self.logits(blocks)
        heads, start = {}, 0
        for name, labels in HEADS.items():
            part = z[start : start + len(labels)]
            p = _sigmoid(part)
            heads[name] = {lab: float(x) for lab, x in zip(labels, p, strict=True)}
            start += len(labels)
        return Prediction(**heads)

    def contributions(
        self, blocks: dict[str, dict[str, float]], column: int
    ) -> list[tuple[str, float]]:
        """Each text feature's share of one output's logit, largest first."""
        out = []
        for name, block in blocks.items():
            if name == "rules":
                continue
            for k, v in block.items():
                j = self.vocab.get(k)
                if j is not None:
                    out.append((k, float(v * self.weights[j, column])))
        return sorted(out, key=lambda kv: -kv[1])

    def column(self, head: str, label: str) -> int:
        start = 0
        for name, labels in HEADS.items():
            if name == head:
                return start + labels.index(label)
            start += len(labels)
        raise KeyError(head)


def save(model: Model, directory: Path = MODEL_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    terms = sorted(model.vocab, key=model.vocab.__getitem__)
    np.savez_compressed(
        directory / WEIGHTS,
        weights=model.weights.astype(np.float16),
        bias=model.bias.astype(np.float32),
        vocab=np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8),
    )
    (directory / THRESHOLDS).write_text(
        json.dumps(model.thresholds, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (directory / META).write_text(
        json.dumps(model.meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


def read(directory: Path = MODEL_DIR) -> Model | None:
    """The model in ``directory``, or None when none has been trained there."""
    if not (directory / WEIGHTS).exists():
        return None
    with np.load(directory / WEIGHTS) as z:
        terms = z["vocab"].tobytes().decode("utf-8").split("\n")
        weights = z["weights"].astype(np.float32)
        bias = z["bias"].astype(np.float32)
    thresholds = json.loads((directory / THRESHOLDS).read_text(encoding="utf-8"))
    meta = json.loads((directory / META).read_text(encoding="utf-8"))
    return Model({t: i for i, t in enumerate(terms)}, weights, bias, thresholds, meta)


@lru_cache(maxsize=1)
def model() -> Model | None:
    """The committed model, loaded once per process."""
    return read()
