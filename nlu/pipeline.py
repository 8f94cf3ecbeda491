"""Loading GiNZA once per process, and running it safely.

* The spaCy pipeline (``ja_ginza``) is loaded lazily on first use, or eagerly with ``load()``
  (for readiness checks), and kept for the life of the process.
* SudachiPy's tokenizer is not thread-safe. Rather than refusing calls from other threads we
  serialise every use of the pipeline with one process-wide lock: the web worker may analyse
  from a thread pool, and a lock is simpler and safer than thread-affinity errors. Analysis is
  CPU-bound anyway, so the lock costs no real throughput under the GIL.
* Every parse runs inside ``nlp.memory_zone()`` (spaCy 3.8), so strings interned for one message
  are freed afterwards and a long-running worker does not grow. Callers must copy everything
  they need out of the Doc inside the zone (``parse`` takes a callback for that).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

MODEL_NAME = "ja_ginza"
T = TypeVar("T")

_nlp: Any = None
_lock = threading.RLock()


def load() -> Any:
    """Load the pipeline (idempotent) and return it."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import spacy

                _nlp = spacy.load(MODEL_NAME)
    return _nlp


def is_loaded() -> bool:
    return _nlp is not None


def lock() -> threading.RLock:
    return _lock


def tokenize_only(text: str) -> list[tuple[str, str, str]]:
    """(surface, normalized form, reading) for each token of ``text``, without parsing.

    Used when compiling lexicons, outside any memory zone (lexicon strings stay interned).
    """
    nlp = load()
    with _lock:
        doc = nlp.make_doc(text)
        out = []
        for t in doc:
            reading = t.morph.get("Reading")
            out.append((t.text, t.norm_, reading[0] if reading else ""))
        return out


def parse_many(texts: list[str], extract: Callable[[Any], T], batch_size: int = 64) -> list[T]:
    """Like ``parse`` for many texts with ``nlp.pipe`` (batched: faster than one call per text)."""
    nlp = load()
    with _lock, nlp.memory_zone():
        return [extract(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]


def parse(text: str, extract: Callable[[Any], T]) -> T:
    """Parse ``text`` and return ``extract(doc)``, computed inside a memory zone."""
    nlp = load()
    with _lock, nlp.memory_zone():
        doc = nlp(text)
        return extract(doc)
