"""Training the classifier from nlu/corpus/: features, group k-fold CV, thresholds, the model files.

    python -m nlu train      # augment the hand-written parts, cross-validate, fit, write nlu/model/
    python -m nlu evaluate   # the same cross-validation, reported per label and per style

Deterministic: the corpus is read in file order, folds come from StratifiedGroupKFold with a fixed
seed (augmented copies share their source's group, so a message and its variants never sit on
both sides of a fold), and the solvers are deterministic. Same corpus → same model files.
GiNZA parses are cached in nlu/.cache/ (keyed by text and GiNZA version) only to save time.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlu import classifier, pipeline
from nlu.analysis import ABOUT, INTENTS, TOPIC_IDS
from nlu.classifier import BLOCK_WEIGHTS, HEADS, Model, features
from nlu.corpus import Row, corpus_hash

SEED = 0
FOLDS = 5
MIN_DF = 2
C = {"topics": 8.0, "risk": 8.0, "intent": 8.0, "about": 8.0}
# risk thresholds, recall first, chosen on other writers' rows (choose_thresholds): urgent from
# the lowest score that keeps precision ≥ MIN_URGENT_PRECISION; the check band reaches
# urgent-or-check recall TARGET_FLAG_RECALL, then goes lower only within FLAG_RATE_BUDGET (the
# share of risk-"none" messages it may flag; "check" messages are meant to be flagged)
MIN_URGENT_PRECISION = 0.80
TARGET_FLAG_RECALL = 0.98
FLAG_RATE_BUDGET = 0.08
# a model topic joins the lexicon's from its own threshold and at least this probability. 0.6
# while the corpus had one writer; with the per-topic thresholds chosen on other writers' rows,
# 0 read them best (F1 0.756 leave-one-writer-out, first round-3 model) but let dev.jsonl fall
# to 0.946; 0.3 was the smallest floor keeping that regression guard at ≥ 0.95 (0.952 with the
# committed model), for ≈ 0.004 on other writers
MODEL_TOPIC_MIN = 0.3
# see sample_weights
EXTERNAL_WEIGHT = 3.0
CACHE_DIR = Path(__file__).resolve().parent / ".cache"


@dataclass
class Example:
    row: Row
    blocks: dict[str, dict[str, float]]
    lexicon_urgent: bool
    lexicon_topics: frozenset[str]
    rule_about: str


# ---------------------------------------------------------------- reading the corpus through nlu


def _cache_path() -> Path:
    import ginza

    return (
        CACHE_DIR / f"parses-ginza{ginza.__version__ if hasattr(ginza, '__version__') else ''}.pkl"
    )


def examples(rows: list[Row], progress: Callable[[str], None] = lambda s: None) -> list[Example]:
    """Parse every text once (cached) and read it with the rules: the model's inputs."""
    from nlu.analyzer import _compile_all, prepare, read_rules
    from nlu.features import Parsed, extract

    _compile_all()
    views, prefixes = prepare([r.text for r in rows])
    cache_file = _cache_path()
    cache: dict[str, Parsed] = {}
    if cache_file.exists():
        with open(cache_file, "rb") as fh:
            cache = pickle.load(fh)
    keys = [hashlib.sha1(p.encode("utf-8")).hexdigest() for p in prefixes]
    todo = sorted({k: p for k, p in zip(keys, prefixes, strict=True) if k not in cache}.items())
    for start in range(0, len(todo), 256):
        chunk = todo[start : start + 256]
        progress(f"parsing {start + len(chunk)}/{len(todo)}")
        parsed = pipeline.parse_many([p for _, p in chunk], extract, batch_size=64)
        cache.update({k: p for (k, _), p in zip(chunk, parsed, strict=True)})
        if start % 1024 == 768 or start + 256 >= len(todo):  # keep progress if interrupted
            CACHE_DIR.mkdir(exist_ok=True)
            with open(cache_file, "wb") as fh:
                pickle.dump(cache, fh)
    out = []
    for row, view, key, prefix in zip(rows, views, keys, prefixes, strict=True):
        parsed = cache[key] if prefix.strip() else Parsed([], [], 0)
        reading = read_rules(view, parsed, None)
        out.append(
            Example(
                row,
                features(view, parsed.tokens, reading.rules),
                reading.analysis.urgent,
                frozenset(reading.analysis.topic_ids),
                reading.analysis.about,
            )
        )
    return out


def vocabulary(exs: list[Example]) -> dict[str, int]:
    df: dict[str, int] = {}
    for ex in exs:
        for block in ex.blocks.values():
            for k in block:
                df[k] = df.get(k, 0) + 1
    return {k: i for i, k in enumerate(sorted(k for k, n in df.items() if n >= MIN_DF))}


def matrix(exs: list[Example], vocab: dict[str, int]):
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for ex in exs:
        cols = {}
        for block in ex.blocks.values():
            for k, v in block.items():
                j = vocab.get(k)
                if j is not None:
                    cols[j] = v
        for j in sorted(cols):
            indices.append(j)
            data.append(cols[j])
        indptr.append(len(indices))
    return csr_matrix(
        (np.asarray(data, dtype=np.float64), indices, indptr), shape=(len(exs), len(vocab))
    )


# ---------------------------------------------------------------- fitting


def _targets(rows: list[Row]) -> np.ndarray:
    """0/1 target per output column, in the order of classifier.HEADS."""
    cols = [[t in r.topics for r in rows] for t in TOPIC_IDS]
    cols.append([r.risk == "urgent" for r in rows])
    cols.append([r.risk != "none" for r in rows])
    cols += [[r.intent == i for r in rows] for i in INTENTS]
    cols += [[r.about == a for r in rows] for a in ABOUT]
    return np.array(cols, dtype=int).T


def _head_of(column: int) -> str:
    start = 0
    for name, labels in HEADS.items():
        if column < start + len(labels):
            return name
        start += len(labels)
    raise IndexError(column)


def sample_weights(rows: list[Row]) -> np.ndarray:
    """Other writers' messages weigh EXTERNAL_WEIGHT: few, but the nearest thing to residents
    the model has not met, and labelled by the eval README's conventions."""
    return np.array([EXTERNAL_WEIGHT if r.external else 1.0 for r in rows])


def fit(x, rows: list[Row], vocab: dict[str, int]) -> Model:
    """One-vs-rest logistic regression per output column (liblinear, dual coordinate descent:
    fast on wide sparse features and deterministic with a fixed seed); returns the run-time
    model with float16-rounded weights, exactly as it is saved."""
    from sklearn.linear_model import LogisticRegression

    y = _targets(rows)
    weights = sample_weights(rows)
    n_feat = x.shape[1]
    cols, biases = [], []
    for j in range(y.shape[1]):
        yj = y[:, j]
        if yj.min() == yj.max():  # a label absent (or everywhere) in this training set
            cols.append(np.zeros(n_feat))
            biases.append(-12.0 if yj.max() == 0 else 12.0)
            continue
        lr = LogisticRegression(
            C=C[_head_of(j)], solver="liblinear", dual=True, max_iter=2000, random_state=SEED
        )
        lr.fit(x, yj, sample_weight=weights)
        cols.append(lr.coef_[0])
        biases.append(float(lr.intercept_[0]))
    matrix_ = np.vstack(cols).T.astype(np.float16).astype(np.float32)
    assert matrix_.shape == (len(vocab), sum(len(v) for v in HEADS.values()))
    return Model(vocab, matrix_, np.asarray(biases, dtype=np.float32), thresholds={})


def predict_rows(model: Model, exs: list[Example]) -> list[classifier.Prediction]:
    return [model.predict(ex.blocks) for ex in exs]


# ---------------------------------------------------------------- cross-validation


def folds(rows: list[Row], k: int = FOLDS) -> list[np.ndarray]:
    """Validation indices of each fold. Our own parts: grouped by source message, stratified by
    risk. Other writers: each writer's file whole in one fold (file j in fold j mod k), so its
    messages are always read by a model that never saw that writer."""
    from sklearn.model_selection import StratifiedGroupKFold

    own = [i for i, r in enumerate(rows) if not r.external]
    strat = [rows[i].risk for i in own]
    groups = [rows[i].group for i in own]
    skf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=SEED)
    out = [[own[j] for j in val] for _, val in skf.split(np.zeros(len(own)), strat, groups)]
    writers = sorted({r.part for r in rows if r.external})
    for i, r in enumerate(rows):
        if r.external:
            out[writers.index(r.part) % k].append(i)
    return [np.array(sorted(v), dtype=int) for v in out]


def cross_validate(
    exs: list[Example], k: int = FOLDS, progress: Callable[[str], None] = lambda s: None
) -> list[classifier.Prediction]:
    """Out-of-fold predictions for every example (vocabulary built on the training folds)."""
    rows = [ex.row for ex in exs]
    oof: list[classifier.Prediction | None] = [None] * len(exs)
    for n, val in enumerate(folds(rows, k), 1):
        progress(f"fold {n}/{k}")
        val_set = set(val.tolist())
        train = [ex for i, ex in enumerate(exs) if i not in val_set]
        vocab = vocabulary(train)
        model = fit(matrix(train, vocab), [ex.row for ex in train], vocab)
        for i, p in zip(val, predict_rows(model, [exs[i] for i in val]), strict=True):
            oof[i] = p
    return oof  # type: ignore[return-value]


# ---------------------------------------------------------------- thresholds


def choose_thresholds(exs: list[Example], preds: list[classifier.Prediction]) -> dict:
    """Risk bands and per-topic thresholds from out-of-fold predictions, recall first. When the
    corpus has other writers' sets, they alone choose (each read by a model that never saw its
    writer: the nearest thing to a new resident); otherwise every row does."""
    if any(ex.row.external for ex in exs):
        pairs = [(ex, p) for ex, p in zip(exs, preds, strict=True) if ex.row.external]
        exs, preds = [e for e, _ in pairs], [p for _, p in pairs]
    score = np.array([p.risk_score for p in preds])
    floor = np.array([ex.lexicon_urgent for ex in exs])
    urgent = np.array([ex.row.risk == "urgent" for ex in exs])
    calm = np.array([ex.row.risk == "none" for ex in exs])

    candidates = sorted(set(np.round(score, 4).tolist()), reverse=True)

    def rates(t: float) -> tuple[float, float]:
        flagged = floor | (score >= t)
        recall = (flagged & urgent).sum() / max(urgent.sum(), 1)
        rate = (flagged & calm).sum() / max(calm.sum(), 1)
        return recall, rate

    # urgent: CV could not give recall ≥ 0.95 and precision ≥ 0.80 at once; the model alone says
    # urgent from the lowest score that keeps precision ≥ 0.80 (scanning down), and the check
    # band below it catches the rest (the bot asks at once)
    t_urgent = candidates[0] if candidates else 0.5
    for t in candidates:
        flagged = floor | (score >= t)
        precision = (flagged & urgent).sum() / max(flagged.sum(), 1)
        if precision < MIN_URGENT_PRECISION and t < 0.9:
            break
        t_urgent = t
    # check: spend the false-flag budget on messages with no danger (with a margin), never stop
    # short of the urgent-or-check recall target
    t_check = t_urgent
    for t in candidates:
        if t > t_urgent:
            continue
        recall, rate = rates(t)
        if rate > FLAG_RATE_BUDGET and recall >= TARGET_FLAG_RECALL:
            break
        t_check = t
    topics = {}
    for t in TOPIC_IDS:
        gold = np.array([t in ex.row.topics for ex in exs])
        prob = np.array([p.topics[t] for p in preds])
        lexicon = np.array([t in ex.lexicon_topics for ex in exs])
        best, best_f1 = 0.5, -1.0
        if gold.sum() >= 5:
            for th in np.arange(MODEL_TOPIC_MIN, 0.8, 0.05):
                pr = lexicon | (prob >= max(th, MODEL_TOPIC_MIN))  # as choose_topics decides
                tp = (pr & gold).sum()
                f1 = 2 * tp / max(pr.sum() + gold.sum(), 1)
                if f1 > best_f1 + 1e-9:
                    best, best_f1 = float(th), f1
        topics[t] = round(best, 2)
    about_rule_min, about_model_sure = _about_rule(exs, preds)
    return {
        "risk": {
            "score": "P(urgent) + 0.5 * P(check)",
            "urgent": round(float(t_urgent), 4),
            "check": round(float(t_check), 4),
        },
        "topics": topics,
        "model_topic_min": MODEL_TOPIC_MIN,
        "about_rule_min": about_rule_min,
        "about_model_sure": about_model_sure,
    }


def _about_rule(exs: list[Example], preds: list[classifier.Prediction]) -> tuple[float, float]:
    """When the rules' `about` should stand over the model's (combine.choose_about): the pair
    that reads the validation rows best; 1.01/0.0 means the model alone."""
    from nlu.combine import choose_about

    def accuracy(rule_min: float, model_sure: float) -> float:
        th = {"about_rule_min": rule_min, "about_model_sure": model_sure}
        return sum(
            choose_about(p.about, ex.rule_about, th) == ex.row.about
            for ex, p in zip(exs, preds, strict=True)
        ) / max(len(exs), 1)

    grid = [(r, m) for r in (1.01, 0.5, 0.3, 0.2, 0.1) for m in (0.0, 0.4, 0.5)]
    return max(grid, key=lambda rm: accuracy(*rm))


# ---------------------------------------------------------------- decisions and metrics


@dataclass(frozen=True)
class Decision:
    topics: frozenset[str]
    risk: str
    intent: str
    about: str


def decide(ex: Example, pred: classifier.Prediction, thresholds: dict) -> Decision:
    from nlu.combine import band, choose_about, choose_topics

    risk, _ = band(pred.risk_score, ex.lexicon_urgent, thresholds["risk"])
    topics = frozenset(choose_topics(pred.topics, set(ex.lexicon_topics), thresholds))
    return Decision(
        topics,
        risk,
        max(pred.intent, key=pred.intent.__getitem__),
        choose_about(pred.about, ex.rule_about, thresholds),
    )


def metrics(rows: list[Row], decisions: list[Decision]) -> dict:
    n = len(rows)
    tp = fp = fn = 0
    per_label = {}
    for t in TOPIC_IDS:
        a = sum(1 for r, d in zip(rows, decisions, strict=True) if t in r.topics and t in d.topics)
        b = sum(
            1 for r, d in zip(rows, decisions, strict=True) if t not in r.topics and t in d.topics
        )
        c = sum(
            1 for r, d in zip(rows, decisions, strict=True) if t in r.topics and t not in d.topics
        )
        tp, fp, fn = tp + a, fp + b, fn + c
        if a + b + c:
            per_label[t] = {
                "precision": round(a / (a + b), 3) if a + b else 0.0,
                "recall": round(a / (a + c), 3) if a + c else 0.0,
                "f1": round(2 * a / (2 * a + b + c), 3),
                "support": a + c,
            }
    urgent = [r.risk == "urgent" for r in rows]
    said_urgent = [d.risk == "urgent" for d in decisions]
    flagged = [d.risk != "none" for d in decisions]
    n_u = sum(urgent)
    u_tp = sum(1 for g, p in zip(urgent, said_urgent, strict=True) if g and p)
    u_pred = sum(said_urgent)
    non_urgent = [not g for g in urgent]
    none_gold = [r.risk == "none" for r in rows]
    check_gold = [r.risk == "check" for r in rows]

    def share(mask, pred) -> float | None:
        m = sum(mask)
        return (
            round(sum(1 for a, b in zip(mask, pred, strict=True) if a and b) / m, 3) if m else None
        )

    return {
        "n": n,
        "urgent": n_u,
        "topics_micro_f1": round(2 * tp / (2 * tp + fp + fn), 3) if tp + fp + fn else 1.0,
        "urgent_recall": round(u_tp / n_u, 3) if n_u else None,
        "urgent_precision": round(u_tp / u_pred, 3) if u_pred else None,
        "flag_recall_on_urgent": share(urgent, flagged),
        "flag_rate_non_urgent": share(non_urgent, flagged),
        "flag_rate_none": share(none_gold, flagged),
        "flag_recall_on_check": share(check_gold, flagged),
        "intent_accuracy": round(
            sum(1 for r, d in zip(rows, decisions, strict=True) if r.intent == d.intent) / n, 3
        )
        if n
        else None,
        "about_accuracy": round(
            sum(1 for r, d in zip(rows, decisions, strict=True) if r.about == d.about) / n, 3
        )
        if n
        else None,
        "per_label": per_label,
    }


def breakdown(rows: list[Row], decisions: list[Decision], key: Callable[[Row], str]) -> dict:
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(key(r), []).append(i)
    return {
        g: {
            k: v
            for k, v in metrics([rows[i] for i in ix], [decisions[i] for i in ix]).items()
            if k != "per_label"
        }
        for g, ix in sorted(groups.items())
    }


def unseen_writer_decisions(
    exs: list[Example], oof: list[classifier.Prediction]
) -> tuple[list[Row], list[Decision]]:
    """Each other writer read by a model and with thresholds chosen without them: the thresholds
    come from the remaining writers' rows (the committed ones are chosen on all of them)."""
    writers = sorted({ex.row.part for ex in exs if ex.row.external})
    rows: list[Row] = []
    out: list[Decision] = []
    for writer in writers:
        rest = [(ex, p) for ex, p in zip(exs, oof, strict=True) if ex.row.external]
        rest = [(ex, p) for ex, p in rest if ex.row.part != writer]
        th = choose_thresholds([ex for ex, _ in rest], [p for _, p in rest])
        for ex, p in zip(exs, oof, strict=True):
            if ex.row.part == writer:
                rows.append(ex.row)
                out.append(decide(ex, p, th))
    return rows, out


# ---------------------------------------------------------------- the whole run


def train(
    rows: list[Row],
    out_dir: Path | None = classifier.MODEL_DIR,
    corpus_root: Path | None = None,
    progress: Callable[[str], None] = lambda s: None,
    k: int = FOLDS,
) -> tuple[Model, dict]:
    """Cross-validate, choose thresholds, fit on everything; write the model unless out_dir=None."""
    exs = examples(rows, progress)
    oof = cross_validate(exs, k, progress)
    thresholds = choose_thresholds(exs, oof)
    decisions = [decide(ex, p, thresholds) for ex, p in zip(exs, oof, strict=True)]
    report = {
        "all": metrics(rows, decisions),
        "hand_written": metrics(
            [r for r in rows if r.group == r.id and not r.external],
            [d for r, d in zip(rows, decisions, strict=True) if r.group == r.id and not r.external],
        ),
        "other_writers": metrics(*unseen_writer_decisions(exs, oof))
        if any(r.external for r in rows)
        else {},
        "by_style": breakdown(rows, decisions, lambda r: r.style),
        "by_part": breakdown(
            rows,
            decisions,
            lambda r: (
                r.part.split("/")[0]
                + "/"
                + (r.part.split("/")[1] if r.part.startswith("augmented") else "*")
            ),
        ),
    }
    progress("fitting on the whole corpus")
    vocab = vocabulary(exs)
    model = fit(matrix(exs, vocab), rows, vocab)
    model.thresholds = thresholds
    model.meta = {
        "corpus_hash": corpus_hash(corpus_root) if corpus_root else corpus_hash(),
        "rows": len(rows),
        "features": len(vocab),
        "block_weights": BLOCK_WEIGHTS,
        "folds": k,
        "seed": SEED,
        "C": C,
        "cv": {
            key: {m: v for m, v in val.items() if m != "per_label"}
            for key, val in report.items()
            if key in ("all", "hand_written", "other_writers") and val
        },
        "external_weight": EXTERNAL_WEIGHT,
    }
    if out_dir is not None:
        classifier.save(model, out_dir)
    return model, report


def format_cv(report: dict, k: int = FOLDS) -> str:
    cols = (
        ("n", "n"),
        ("urgent", "urg"),
        ("urgent_recall", "u-rec"),
        ("urgent_precision", "u-prec"),
        ("flag_recall_on_urgent", "uc-rec"),
        ("flag_rate_non_urgent", "flag-nonu"),
        ("flag_recall_on_check", "chk-rec"),
        ("topics_micro_f1", "topicF1"),
        ("intent_accuracy", "intent"),
        ("about_accuracy", "about"),
    )

    def line(name: str, m: dict) -> str:
        vals = []
        for key, _ in cols:
            v = m.get(key)
            vals.append(f"{'–' if v is None else v:>9}")
        return f"{name:<22}" + "".join(vals)

    head = f"{'':<22}" + "".join(f"{h:>9}" for _, h in cols)
    out = [f"# {k}-fold group cross-validation on nlu/corpus/", "", head]
    out.append(line("all", report["all"]))
    if report.get("hand_written"):
        out.append(line("our hand-written", report["hand_written"]))
    if report.get("other_writers"):
        out.append(line("other writers (unseen)", report["other_writers"]))
    out += ["", "## by part", head]
    out += [line(p, m) for p, m in report["by_part"].items()]
    out += ["", "## by style", head]
    out += [line(s, m) for s, m in report["by_style"].items()]
    out += [
        "",
        "## topics per label (all rows)",
        f"{'label':<22}{'prec':>8}{'rec':>8}{'f1':>8}{'n':>7}",
    ]
    for t, v in report["all"]["per_label"].items():
        out.append(f"{t:<22}{v['precision']:>8}{v['recall']:>8}{v['f1']:>8}{v['support']:>7}")
    return "\n".join(out)
