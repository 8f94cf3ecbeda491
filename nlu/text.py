"""Text views used by every part of nlu: normalisation with an offset map back to the original.

The resident's text is never changed in place. We build:

* ``norm``  : NFKC per character (full-width digits and letters become ASCII, half-width kana
  become full-width), control characters replaced by spaces. Each normalised character maps
  back to an index in the original text, so spans found on ``norm`` can be reported on ``text``.
* ``folded``: ``norm`` lower-cased with katakana folded to hiragana (ゴミ → ごみ), same length.
* ``flat``  : ``folded`` without whitespace, for Japanese patterns: elderly residents often
  write with spaces between words (としよりの　ひとりぐらしで).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_KATA_START, _KATA_END = 0x30A1, 0x30F6  # ァ .. ヶ
_WS = re.compile(r"\s")


def fold_char(ch: str) -> str:
    code = ord(ch)
    if _KATA_START <= code <= _KATA_END:
        return chr(code - 0x60)
    low = ch.lower()
    return low if len(low) == 1 else ch


def fold(s: str) -> str:
    """Lower-case and fold katakana to hiragana; length-preserving."""
    return "".join(fold_char(c) for c in s)


def fold_kana(s: str) -> str:
    """Fold katakana to hiragana only (safe for regular-expression sources)."""
    return "".join(chr(ord(c) - 0x60) if _KATA_START <= ord(c) <= _KATA_END else c for c in s)


def _norm_char(ch: str) -> str:
    cat = unicodedata.category(ch)
    if cat == "Cc" and ch not in "\n\t":
        return " "
    if cat in ("Cf", "Cs", "Co") and ch not in "\u200d":
        return " "
    if ch in "\u301c\uff5e":  # 〜 ～ keep as a wave dash
        return "〜"
    return unicodedata.normalize("NFKC", ch)


@dataclass(frozen=True)
class TextView:
    text: str  # original
    norm: str
    norm_to_orig: list[int]  # len(norm) + 1 entries; last one is len(text)
    folded: str
    flat: str
    flat_to_norm: list[int]  # len(flat) + 1 entries
    flat_raw: str = ""  # like flat but not folded (katakana kept), same indices

    def orig_span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span for a [start, end) span of ``norm``."""
        s = self.norm_to_orig[start]
        e = self.norm_to_orig[end - 1] + 1 if end > start else s
        return s, e

    def flat_span_to_norm(self, start: int, end: int) -> tuple[int, int]:
        s = self.flat_to_norm[start]
        e = self.flat_to_norm[end - 1] + 1 if end > start else s
        return s, e


def make_view(text: str) -> TextView:
    norm_parts: list[str] = []
    norm_to_orig: list[int] = []
    for i, ch in enumerate(text):
        n = _norm_char(ch)
        if not n:
            continue
        norm_parts.append(n)
        norm_to_orig.extend([i] * len(n))
    norm = "".join(norm_parts)
    norm_to_orig.append(len(text))
    folded = fold(norm)
    flat_chars: list[str] = []
    flat_to_norm: list[int] = []
    for i, ch in enumerate(folded):
        if _WS.match(ch):
            continue
        flat_chars.append(ch)
        flat_to_norm.append(i)
    flat_to_norm.append(len(norm))
    flat_raw = "".join(norm[i] for i in flat_to_norm[:-1])
    return TextView(text, norm, norm_to_orig, folded, "".join(flat_chars), flat_to_norm, flat_raw)


_JA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\u3400-\u4dbf々〆ヵヶ]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN = re.compile(r"[A-Za-z]")
_OTHER_SCRIPT = re.compile(r"[\uac00-\ud7af\u0400-\u04ff\u0e00-\u0e7f\u0600-\u06ff\u0900-\u097f]")


def detect_language(norm: str) -> str:
    """ "ja" unless the message is clearly written in another language (English etc.)."""
    ja = len(_JA.findall(norm))
    kana = len(_KANA.findall(norm))
    latin_words = len(re.findall(r"[A-Za-z]{2,}", norm))
    other = len(_OTHER_SCRIPT.findall(norm))
    if ja == 0:
        return "other" if (latin_words >= 2 or other >= 2) else "ja"
    if kana == 0 and ja >= 12:  # Chinese-only text
        return "other"
    if latin_words >= 3 and latin_words > ja * 0.5:
        return "other"
    if other > ja:
        return "other"
    return "ja"
