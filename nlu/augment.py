"""Label-preserving variants of hand-written corpus messages (nlu/corpus/augmented/).

Each Japanese hand-written message gets one variant, chosen deterministically from its id:

* hiragana : every word in hiragana, from Sudachi's readings (ははがたおれてうごかない)
* katakana : the same in katakana
* spaced   : hiragana with a full-width space after each phrase, as some elderly residents write
* voice    : voice input: no punctuation, sentences run together or split by a space
* emoji    : emoji added after sentences, as on LINE
* story    : a long, unrelated story first; the message (its danger) comes last

Half of the worries (intent consult) get the ``story`` variant, dangerous or not, so the danger
is in the last sentence for the urgent ones and the preamble itself means nothing (a first version
gave stories only to dangerous messages, and the model learnt "long preamble = danger"). A variant
keeps its source's labels and records ``source`` and ``aug``; training puts it in its source's
cross-validation group. ``style`` becomes ``aug_<kind>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from nlu import pipeline
from nlu.corpus import AUGMENTED_PART, CORPUS_DIR, HAND_PARTS, Row, load, part_files, read_rows

KINDS = ("hiragana", "katakana", "spaced", "voice", "emoji", "story")
FOREIGN_STYLES = {"english", "chinese", "vietnamese", "portuguese", "tagalog", "korean", "mixed"}
_KANJI = re.compile(r"[\u4e00-\u9fff々〆]")
_KATA = re.compile(r"[\u30a1-\u30f6]")
_PUNCT = re.compile(r"[、。，．,.!?！？…「」『』（）()〜~]+")
_SENT_END = re.compile(r"(?<=[。！？!?])")

# neutral diary sentences: no topic, no danger, no request
STORY = (
    "今日は朝から雨が降っていました。",
    "お昼はうどんを作って食べました。",
    "テレビで天気予報を見ていたら、週末は晴れるそうです。",
    "庭の花が咲き始めました。",
    "最近は日が短くなりましたね。",
    "猫が窓のところで寝ています。",
    "洗濯物がなかなか乾きません。",
    "朝はパンとコーヒーでした。",
    "近くの公園のイチョウがきれいに色づいていました。",
    "このアプリを使うのは初めてです。",
    "何から書けばいいのか分からないのですが、順番に書きます。",
    "ラジオを聞きながらこれを書いています。",
    "昨日は駅前のスーパーが混んでいました。",
    "隣の家の柿がたくさん実っています。",
    "先週は久しぶりに暖かい日が続きました。",
    "うまく書けるか分かりませんが、読んでください。",
    "さっきまで夕飯の片付けをしていました。",
    "窓の外で鳥が鳴いています。",
    "長くなってすみません。",
    "今朝はゴミの日だったので早起きしました。",
)
EMOJI_DANGER = ("😭", "😢", "💦", "🙏", "😱", "😣", "💧")
EMOJI_CALM = ("😊", "🙏", "💦", "😅", "🤔", "✨", "🙇", "☺️")


def _pick(key: str, n: int) -> int:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % n


def _hira(s: str) -> str:
    return "".join(chr(ord(c) - 0x60) if 0x30A1 <= ord(c) <= 0x30F6 else c for c in s)


def _kata(s: str) -> str:
    return "".join(chr(ord(c) + 0x60) if 0x3041 <= ord(c) <= 0x3096 else c for c in s)


def _tokens(text: str) -> list[tuple[str, str, str]]:
    """(surface, reading, Sudachi part of speech) for each token, tokenizer only."""
    nlp = pipeline.load()
    with pipeline.lock(), nlp.memory_zone():
        doc = nlp.make_doc(text)
        out = []
        for t in doc:
            reading = t.morph.get("Reading")
            out.append((t.text, reading[0] if reading else "", t.tag_))
        return out


def _read(surface: str, reading: str) -> str:
    """The kana of one token: its reading when it has kanji, else the surface itself."""
    if _KANJI.search(surface) and reading and _KATA.search(reading):
        return reading
    return surface


def to_kana(text: str, katakana: bool = False, spaced: bool = False) -> str:
    out = []
    toks = _tokens(text)
    for i, (surface, reading, tag) in enumerate(toks):
        kana = _read(surface, reading)
        out.append(_kata(kana) if katakana else _hira(kana))
        nxt = toks[i + 1][2] if i + 1 < len(toks) else ""
        if (
            spaced
            and tag.startswith(("助詞", "助動詞"))
            and not nxt.startswith(("助詞", "助動詞", "補助記号", "空白"))
            and i + 1 < len(toks)
        ):
            out.append("　")
    return "".join(out)


def voice(text: str, key: str) -> str:
    sents = [s for s in _SENT_END.split(text) if s.strip()]
    joiner = " " if _pick(key + "v", 2) else ""
    return joiner.join(_PUNCT.sub("", s).strip() for s in sents).replace("\n", joiner)


def with_emoji(text: str, danger: bool, key: str) -> str:
    pool = EMOJI_DANGER if danger else EMOJI_CALM
    sents = [s for s in _SENT_END.split(text) if s]
    out = []
    for i, s in enumerate(sents):
        out.append(s)
        if i == 0 or i == len(sents) - 1:
            e = pool[_pick(f"{key}{i}", len(pool))]
            out.append(e * (1 + _pick(f"{key}{i}n", 2)))
    return "".join(out)


def story(text: str, key: str) -> str:
    n = 4 + _pick(key + "n", 4)
    start = _pick(key + "s", len(STORY))
    prefix = "".join(STORY[(start + 3 * i) % len(STORY)] for i in range(n))
    return prefix + text


def kinds_for(row: Row) -> list[str]:
    """One variant per message. Half of the worries (intent consult) get the story, whatever
    their risk, so that a long preamble says nothing about danger; the rest get another kind."""
    if row.style in FOREIGN_STYLES or not re.search(r"[ぁ-んァ-ン]", row.text):
        return []
    if row.intent == "consult" and _pick(row.id + "story", 2) == 0:
        return ["story"]
    pool = [k for k in KINDS if k != "story"]
    if not _KANJI.search(row.text):
        pool = [k for k in pool if k not in ("hiragana", "spaced")]
    return [pool[_pick(row.id, len(pool))]]


def variant(row: Row, kind: str) -> str:
    key = row.id + kind
    if kind == "hiragana":
        return to_kana(row.text)
    if kind == "katakana":
        return to_kana(row.text, katakana=True)
    if kind == "spaced":
        return to_kana(row.text, spaced=True)
    if kind == "voice":
        return voice(row.text, key)
    if kind == "emoji":
        return with_emoji(row.text, row.risk != "none", key)
    return story(row.text, key)


def augment(root: Path = CORPUS_DIR) -> dict[str, int]:
    """Rewrite nlu/corpus/augmented/<kind>.jsonl from the hand-written parts; counts per kind."""
    rows = read_rows(part_files(HAND_PARTS, root), root)
    out: dict[str, list[dict]] = {k: [] for k in KINDS}
    for row in rows:
        for kind in kinds_for(row):
            text = variant(row, kind)
            if not text.strip() or text == row.text:
                continue
            obj = row.to_json()
            obj.update(
                id=f"{row.id}~{kind}", text=text, style=f"aug_{kind}", source=row.id, aug=kind
            )
            out[kind].append(obj)
    directory = root / AUGMENTED_PART
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.jsonl"):
        old.unlink()
    for kind, objs in out.items():
        if objs:
            with open(directory / f"{kind}.jsonl", "w", encoding="utf-8") as fh:
                for obj in objs:
                    fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return {k: len(v) for k, v in out.items()}


__all__ = ["augment", "load", "to_kana", "variant"]
