"""The training corpus in nlu/corpus/: reading, checking and hashing its JSONL parts.

Every row follows ../shared/eval/README.md plus two fields: ``style`` (how it is written) and
``risk`` (urgent/check/none). Augmented rows also carry ``source`` (the id of the row they were
made from) and ``aug`` (the transformation); they share a cross-validation group with it.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from nlu.analysis import ABOUT, INTENTS, RISK_LEVELS, TOPIC_IDS

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
# hand-written parts (by the corpus writer, and the NLU engineer's own look-alikes and languages)
HAND_PARTS = ("written", "own")
AUGMENTED_PART = "augmented"
# sets by other writers, one file per writer (blind sets once their first-run figures were
# reported, and writers who never saw the corpus): kept as written, not augmented; training
# validates each file on a model that never saw it (leave-one-writer-out)
EXTERNAL_PART = "external"
REQUIRED = ("id", "text", "topics", "urgent", "intent", "about", "style", "risk")


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    topics: tuple[str, ...]
    urgent: bool
    intent: str
    about: str
    style: str
    risk: str
    part: str  # e.g. "written/medical", "own/lookalikes", "augmented/hiragana", "external/writer-a"
    group: str  # cross-validation group: the source id for augmented rows

    @property
    def external(self) -> bool:
        return self.part.startswith(EXTERNAL_PART + "/")

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "topics": list(self.topics),
            "urgent": self.urgent,
            "intent": self.intent,
            "about": self.about,
            "style": self.style,
            "risk": self.risk,
        }


_SPACING = re.compile(r"[\s、。，．,.!?！？…・「」『』()（）〜~ー\-]+")


def text_key(text: str) -> str:
    """The same words whatever the width, case, spaces and punctuation: how the corpus is kept
    apart from the regression sets."""
    return _SPACING.sub("", unicodedata.normalize("NFKC", text).lower())


class CorpusError(ValueError):
    pass


def _check(obj: dict, where: str) -> None:
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise CorpusError(f"{where}: missing {missing}")
    if not isinstance(obj["text"], str) or not obj["text"].strip():
        raise CorpusError(f"{where}: empty text")
    bad = [t for t in obj["topics"] if t not in TOPIC_IDS]
    if bad:
        raise CorpusError(f"{where}: unknown topics {bad}")
    if obj["intent"] not in INTENTS:
        raise CorpusError(f"{where}: unknown intent {obj['intent']!r}")
    if obj["about"] not in ABOUT:
        raise CorpusError(f"{where}: unknown about {obj['about']!r}")
    if obj["risk"] not in RISK_LEVELS:
        raise CorpusError(f"{where}: unknown risk {obj['risk']!r}")
    if bool(obj["urgent"]) != (obj["risk"] == "urgent"):
        raise CorpusError(f"{where}: urgent must be true iff risk is urgent")


def part_files(parts: tuple[str, ...], root: Path = CORPUS_DIR) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        files += sorted((root / part).glob("*.jsonl"))
    return files


def read_rows(files: list[Path], root: Path = CORPUS_DIR) -> list[Row]:
    """All rows of ``files``; a malformed line names its file and line (CorpusError)."""
    rows: list[Row] = []
    seen: set[str] = set()
    for path in files:
        part = f"{path.parent.name}/{path.stem}"
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path.relative_to(root.parent)}:{n}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CorpusError(f"{where}: {exc}") from exc
                _check(obj, where)
                if obj["id"] in seen:
                    raise CorpusError(f"{where}: duplicate id {obj['id']}")
                seen.add(obj["id"])
                rows.append(
                    Row(
                        id=obj["id"],
                        text=obj["text"],
                        topics=tuple(t for t in TOPIC_IDS if t in obj["topics"]),
                        urgent=obj["risk"] == "urgent",
                        intent=obj["intent"],
                        about=obj["about"],
                        style=obj["style"],
                        risk=obj["risk"],
                        part=part,
                        group=obj.get("source") or obj["id"],
                    )
                )
    return rows


def load(root: Path = CORPUS_DIR, augmented: bool = True, external: bool = True) -> list[Row]:
    parts = HAND_PARTS + ((AUGMENTED_PART,) if augmented else ())
    parts += (EXTERNAL_PART,) if external else ()
    return read_rows(part_files(parts, root), root)


def corpus_hash(root: Path = CORPUS_DIR) -> str:
    """sha256 over every corpus file (path and bytes): hand-written, augmented and external."""
    h = hashlib.sha256()
    for path in part_files(HAND_PARTS + (AUGMENTED_PART, EXTERNAL_PART), root):
        h.update(str(path.relative_to(root)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
