"""Plain-data features copied out of a GiNZA Doc (inside the memory zone), and context checks.

Nothing here holds a spaCy object, so analysis can continue after the memory zone closes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlu.text import TextView


@dataclass(frozen=True)
class Tok:
    i: int
    start: int  # offsets in TextView.norm
    end: int
    text: str
    norm: str
    pos: str
    tag: str
    dep: str
    head: int
    infl: str  # the Inflection feature, e.g. "下一段-ラ行;連用形-一般"


@dataclass(frozen=True)
class Ent:
    start: int
    end: int
    label: str
    person_tokens: bool  # at least one token tagged 名詞-固有名詞-人名


@dataclass
class Parsed:
    tokens: list[Tok]
    ents: list[Ent]
    parsed_chars: int  # how much of TextView.norm went through the parser


def extract(doc) -> Parsed:
    toks = []
    for t in doc:
        infl = t.morph.get("Inflection")
        toks.append(
            Tok(
                t.i,
                t.idx,
                t.idx + len(t.text),
                t.text,
                t.norm_,
                t.pos_,
                t.tag_,
                t.dep_,
                t.head.i,
                infl[0] if infl else "",
            )
        )
    ents = []
    for e in doc.ents:
        person = any(t.tag_.startswith("名詞-固有名詞-人名") for t in e)
        ents.append(Ent(e.start_char, e.end_char, e.label_, person))
    return Parsed(toks, ents, len(doc.text))


# ---------------------------------------------------------------- sentences and clauses

_SENT_END = re.compile(r"[。！？!?\n]+|(?<=[ぁ-んー])[!！?？]*[\s　]{2,}")
_CLAUSE_END = re.compile(r"[、,，]|けど|けれど|のに|が、")


def sentence_spans(norm: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENT_END.finditer(norm):
        if m.start() > start:
            spans.append((start, m.start()))
        start = m.end()
    if start < len(norm):
        spans.append((start, len(norm)))
    return spans or [(0, len(norm))]


def span_containing(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for s, e in spans:
        if s <= pos < e:
            return s, e
    return spans[-1] if spans else (0, 0)


def clause_of(norm: str, sent: tuple[int, int], pos: int, end: int) -> tuple[int, int]:
    """The clause of a sentence around [pos, end): split at 、 and けど/のに."""
    s, e = sent
    cut_start, cut_end = s, e
    for m in _CLAUSE_END.finditer(norm, s, e):
        if m.end() <= pos:
            cut_start = m.end()
        elif m.start() >= end:
            cut_end = m.start()
            break
    return cut_start, cut_end


# ---------------------------------------------------------------- the predicate after a hit

_CHAIN_NORMS = {
    "てる",
    "とる",
    "ちゃう",
    "じゃう",
    "しまう",
    "仕舞う",
    "いる",
    "居る",
    "おる",
    "有る",
    "ある",
    "て",
    "で",
    "た",
    "ない",
    "ぬ",
    "ず",
    "ん",
    "ます",
    "です",
    "れる",
    "られる",
    "せる",
    "させる",
    "そう",
    "たい",
    "ば",
    "たら",
    "も",
    "は",
    "だ",
    "や",
    "けど",
}


@dataclass(frozen=True)
class Chain:
    negated: bool = False
    past: bool = False
    conditional: bool = False
    conjecture: bool = False
    volitional: bool = False
    progressive: bool = False


def chain_after(tokens: list[Tok], hit_end: int) -> Chain | None:
    """Morphology of the auxiliaries following a hit (negation, tense, conditional...).

    Returns None when the hit lies outside the parsed tokens.
    """
    if not tokens or hit_end > tokens[-1].end:
        return None
    # the last token overlapping the hit
    last = None
    for t in tokens:
        if t.start < hit_end:
            last = t
        else:
            break
    if last is None:
        return None
    neg = past = cond = conj = vol = prog = False
    if "意志推量形" in last.infl:
        vol = True
    if "仮定形" in last.infl:
        cond = True
    prev_te = False
    prev_norm = ""
    for t in tokens[last.i + 1 : last.i + 9]:
        if t.pos == "PUNCT" or t.text in "、。!?！？\n":
            break
        is_aux = (
            t.pos in ("AUX", "SCONJ", "PART")
            or t.tag.startswith("動詞-非自立可能")
            or t.tag.startswith("形容詞-非自立可能")
            or t.norm in _CHAIN_NORMS
        )
        if not is_aux:
            break
        n = t.norm
        after_shika = prev_norm in ("しか", "外")  # 〜しかない means "only", not a negation
        if (
            n in ("ない", "ぬ", "ず", "ん")
            and t.pos == "AUX"
            and not after_shika
            or n == "無い"
            and t.tag.startswith("形容詞-非自立")
            and not after_shika
        ):
            neg = True
        if n == "た":
            past = True
        if "仮定形" in t.infl or n in ("ば", "たら", "なら"):
            cond = True
        if n == "も" and prev_te:
            cond = True  # 〜ても: concessive
        if n == "そう" or t.text == "そう":
            conj = True
        if "意志推量形" in t.infl:
            vol = True
        if n in ("てる", "とる", "いる", "居る", "おる") and (prev_te or n in ("てる", "とる")):
            prog = True
        prev_te = n in ("て", "で", "てる")  # GiNZA tags the て of 〜てて as てる
        prev_norm = n
        if n == "も":
            break
    return Chain(neg, past, cond, conj, vol, prog)


_SURF_NEG = re.compile(
    r"^(?!しか)(て|で)?(は|も)?(い)?(ない|ません|なかった|ず|へん|ひん|ん(?!だ))"
)
_SURF_COND = re.compile(r"^(たら|れば|ば|ても|でも|なら|たりしたら)")
_SURF_CONJ = re.compile(r"^(そう|そうな)")
_SURF_PAST = re.compile(r"^(た|だ|ました|ていた|てた|ちゃった)")


def chain_from_surface(view: TextView, norm_end: int) -> Chain:
    """Fallback when no tokens cover the hit (text beyond the parser cap)."""
    rest = view.folded[norm_end : norm_end + 10].replace(" ", "")
    return Chain(
        bool(_SURF_NEG.match(rest)),
        bool(_SURF_PAST.match(rest)),
        bool(_SURF_COND.match(rest)),
        bool(_SURF_CONJ.match(rest)),
    )


# ---------------------------------------------------------------- content lemmas

_STOP_LEMMAS = {
    "する",
    "為る",
    "ある",
    "有る",
    "いる",
    "居る",
    "なる",
    "成る",
    "こと",
    "事",
    "もの",
    "物",
    "よう",
    "様",
    "ため",
    "為",
    "とき",
    "時",
    "ところ",
    "所",
    "の",
    "ん",
    "さん",
    "方",
    "思う",
    "言う",
    "いう",
    "できる",
    "出来る",
    "くる",
    "来る",
    "いく",
    "行く",
    "ない",
    "無い",
    "いい",
    "良い",
    "くれる",
    "もらう",
    "貰う",
    "やる",
    "これ",
    "それ",
    "あれ",
    "ここ",
    "そこ",
    "どこ",
    "私",
    "僕",
}
_CONTENT_POS = {"NOUN", "PROPN", "VERB", "ADJ"}


def content_lemmas(tokens: list[Tok]) -> list[str]:
    out = []
    for k, t in enumerate(tokens):
        if "助数詞" in t.tag and k and tokens[k - 1].pos == "NUM":
            continue  # 12月, 5日, 3人: counters after a number
        if t.pos not in _CONTENT_POS or t.tag.startswith(
            ("動詞-非自立", "形容詞-非自立", "名詞-数詞")
        ):
            continue
        if t.norm in _STOP_LEMMAS or not t.norm.strip() or t.norm.isdigit():
            continue
        if all(not ch.isalnum() for ch in t.norm):
            continue
        out.append(t.norm)
    return out
